using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace NoKv.Storage.Vfs;

/// <summary>
/// A whole physical file mapped read-only (<c>mmap(PROT_READ, MAP_SHARED)</c> on Unix). The mapping keeps
/// the pages reachable even after the file is unlinked (Unix), so a table deleted by compaction stays
/// readable until its last reader releases it.
/// </summary>
internal sealed unsafe class PhysicalFileMapping : FileMapping
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    private PhysicalFileMapping(MemoryMappedFile file, MemoryMappedViewAccessor view, byte* pointer, long length)
        : base(pointer, length)
    {
        _file = file;
        _view = view;
    }

    /// <summary>Maps <paramref name="handle"/>'s first <paramref name="length"/> bytes (which must be &gt; 0); the handle stays owned by the caller.</summary>
    public static PhysicalFileMapping Create(SafeFileHandle handle, long length)
    {
        MemoryMappedFile? file = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            file = MemoryMappedFile.CreateFromFile(handle, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new PhysicalFileMapping(file, view, pointer + view.PointerOffset, length);
        }
        catch
        {
            view?.Dispose();
            file?.Dispose();
            throw;
        }
    }

    private protected override void Release()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
