namespace NoKv.Client.Transactions;

/// <summary>Orders keys as the store does (unsigned bytes, shorter prefix first).</summary>
internal sealed class ByteArrayOrder : IComparer<byte[]>
{
    public static readonly ByteArrayOrder Instance = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
