using System.Buffers.Binary;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Order of the db layer's internal keys: user key bytes followed by an 8-byte little-endian trailer
/// <c>(sequence &lt;&lt; 8) | kind</c>. Sorts by user key ascending (bytewise), then trailer descending, so
/// the newest version of a user key comes first. Thread-safe singleton.
/// </summary>
/// <remarks>
/// Keys shorter than the trailer are not valid internal keys; they are ordered bytewise as if they had an
/// empty user key, so a damaged key cannot make the comparer throw in the middle of a search.
/// </remarks>
public sealed class InternalKeyComparer : IKeyComparer
{
    /// <summary>Size of the trailer that ends every internal key.</summary>
    public const int TrailerSize = 8;

    /// <summary>
    /// The largest trailer; it sorts before every other version of the same user key, so
    /// <c>userKey + MaxTrailer</c> is the first internal key of that user key.
    /// </summary>
    public const ulong MaxTrailer = ulong.MaxValue;

    public static readonly InternalKeyComparer Instance = new();

    private InternalKeyComparer()
    {
    }

    /// <summary>Stored in tables: never change.</summary>
    public string Name => "nokv.internal-key";

    public int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => CompareKeys(a, b);

    /// <summary>The order itself, callable without an interface dispatch on hot paths.</summary>
    public static int CompareKeys(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length < TrailerSize || b.Length < TrailerSize)
        {
            return a.SequenceCompareTo(b);
        }

        int c = a.Slice(0, a.Length - TrailerSize).SequenceCompareTo(b.Slice(0, b.Length - TrailerSize));
        if (c != 0)
        {
            return c;
        }

        ulong ta = BinaryPrimitives.ReadUInt64LittleEndian(a.Slice(a.Length - TrailerSize));
        ulong tb = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(b.Length - TrailerSize));
        return tb.CompareTo(ta);
    }

    public ReadOnlySpan<byte> UserKey(ReadOnlySpan<byte> key) =>
        key.Length >= TrailerSize ? key.Slice(0, key.Length - TrailerSize) : key;

    public byte[] FindShortestSeparator(ReadOnlySpan<byte> start, ReadOnlySpan<byte> limit)
    {
        if (start.Length >= TrailerSize && limit.Length >= TrailerSize)
        {
            ReadOnlySpan<byte> startUser = UserKey(start);
            ReadOnlySpan<byte> shortened = BytewiseComparer.ShortestSeparator(startUser, UserKey(limit));
            if (shortened.Length < startUser.Length)
            {
                // The shortened user key is strictly between the two user keys, so any trailer works;
                // the max trailer makes it the first version of that user key.
                return WithMaxTrailer(shortened);
            }
        }

        return start.ToArray();
    }

    public byte[] FindShortSuccessor(ReadOnlySpan<byte> key)
    {
        if (key.Length >= TrailerSize)
        {
            ReadOnlySpan<byte> user = UserKey(key);
            ReadOnlySpan<byte> successor = BytewiseComparer.ShortSuccessor(user);
            if (successor.Length < user.Length)
            {
                return WithMaxTrailer(successor);
            }
        }

        return key.ToArray();
    }

    /// <summary>Writes <paramref name="userKey"/> followed by a trailer for (sequence, kind).</summary>
    public static byte[] MakeKey(ReadOnlySpan<byte> userKey, ulong sequence, byte kind)
    {
        var key = new byte[userKey.Length + TrailerSize];
        userKey.CopyTo(key);
        BinaryPrimitives.WriteUInt64LittleEndian(key.AsSpan(userKey.Length), (sequence << 8) | kind);
        return key;
    }

    private static byte[] WithMaxTrailer(ReadOnlySpan<byte> userKey)
    {
        var key = new byte[userKey.Length + TrailerSize];
        userKey.CopyTo(key);
        BinaryPrimitives.WriteUInt64LittleEndian(key.AsSpan(userKey.Length), MaxTrailer);
        return key;
    }
}
