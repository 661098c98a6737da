namespace NoKv.Storage.Sstable;

/// <summary>Unsigned lexicographic byte order (shorter prefix first). Thread-safe singleton.</summary>
public sealed class BytewiseComparer : IKeyComparer
{
    public static readonly BytewiseComparer Instance = new();

    private BytewiseComparer()
    {
    }

    /// <summary>Stored in tables: never change.</summary>
    public string Name => "nokv.bytewise";

    public int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);

    public ReadOnlySpan<byte> UserKey(ReadOnlySpan<byte> key) => key;

    public byte[] FindShortestSeparator(ReadOnlySpan<byte> start, ReadOnlySpan<byte> limit) =>
        ShortestSeparator(start, limit).ToArray();

    public byte[] FindShortSuccessor(ReadOnlySpan<byte> key) => ShortSuccessor(key).ToArray();

    /// <summary>
    /// Bytewise separator: the common prefix of start and limit plus start's next byte incremented, when
    /// that is still below limit; otherwise start. Build-time only (allocates).
    /// </summary>
    internal static ReadOnlySpan<byte> ShortestSeparator(ReadOnlySpan<byte> start, ReadOnlySpan<byte> limit)
    {
        int common = start.CommonPrefixLength(limit);
        if (common >= start.Length || common >= limit.Length)
        {
            // One is a prefix of the other: nothing shorter than start separates them.
            return start;
        }

        byte next = start[common];
        if (next < 0xFF && next + 1 < limit[common])
        {
            byte[] result = start.Slice(0, common + 1).ToArray();
            result[common]++;
            return result;
        }

        return start;
    }

    /// <summary>The shortest key &gt;= key: key's first non-0xFF byte incremented and the rest dropped.</summary>
    internal static ReadOnlySpan<byte> ShortSuccessor(ReadOnlySpan<byte> key)
    {
        for (int i = 0; i < key.Length; i++)
        {
            if (key[i] != 0xFF)
            {
                byte[] result = key.Slice(0, i + 1).ToArray();
                result[i]++;
                return result;
            }
        }

        // All 0xFF (or empty): key is its own shortest successor.
        return key;
    }
}
