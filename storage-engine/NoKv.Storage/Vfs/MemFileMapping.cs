using System.Runtime.InteropServices;

namespace NoKv.Storage.Vfs;

/// <summary>
/// An in-memory file's current buffer, pinned so the table reader can use it exactly like a mapped physical
/// file (the same zero-copy read path runs in the in-memory tests). In-place overwrites (the corruption test
/// hook) are visible through it; appends that grow the file into a new buffer are not, which is fine for the
/// immutable tables it is used for.
/// </summary>
internal sealed unsafe class MemFileMapping : FileMapping
{
    private GCHandle _pin;

    private MemFileMapping(GCHandle pin, long length)
        : base((byte*)pin.AddrOfPinnedObject(), length)
    {
        _pin = pin;
    }

    /// <summary>Pins <paramref name="buffer"/>, whose first <paramref name="length"/> bytes are the file.</summary>
    public static MemFileMapping Create(byte[] buffer, int length) => new(GCHandle.Alloc(buffer, GCHandleType.Pinned), length);

    private protected override void Release() => _pin.Free();
}
