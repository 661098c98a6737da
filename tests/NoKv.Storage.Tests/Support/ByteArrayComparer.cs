using NoKv.Storage.Sstable;

namespace NoKv.Storage.Tests.Support;

/// <summary>Adapts an <see cref="IKeyComparer"/> to the BCL for model collections in tests.</summary>
internal sealed class ByteArrayComparer(IKeyComparer comparer) : IComparer<byte[]>
{
    public static readonly ByteArrayComparer Bytewise = new(BytewiseComparer.Instance);

    public static readonly ByteArrayComparer Internal = new(InternalKeyComparer.Instance);

    public int Compare(byte[]? x, byte[]? y) => comparer.Compare(x, y);
}
