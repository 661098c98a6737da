using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace NoKv.Storage.Sstable;

/// <summary>
/// A compact search aid for an index block whose entries are all restart points: for every entry, the 8
/// user-key bytes that follow the prefix shared by all index keys, as a big-endian number. Binary search
/// runs over this dense array (8 bytes per data block, so it stays in the CPU cache) and touches the index
/// block only when two numbers tie; that replaces a dozen cache misses into a large index block per lookup
/// with one or two.
/// </summary>
/// <remarks>
/// Correctness: the comparer orders keys by user key bytewise first (both built-in comparers do; the
/// reader only builds this for them). For user keys that both start with the common prefix, comparing the
/// zero-padded next 8 bytes as numbers gives the bytewise order whenever the numbers differ, so a tie is the
/// only case that needs the full comparison. Immutable, thread-safe.
/// </remarks>
internal sealed class IndexKeyPrefixes
{
    private readonly ulong[] _prefixes;
    private readonly byte[] _commonPrefix;

    // Index entries in the block; _prefixes covers the first _prefixes.Length of them. The last entry is
    // left out when it alone lacks the common prefix: it is usually the short successor of the table's
    // last key ("1" after "0000...9"), which would otherwise shrink the common prefix to nothing.
    private readonly int _entries;

    private IndexKeyPrefixes(ulong[] prefixes, byte[] commonPrefix, int entries)
    {
        _prefixes = prefixes;
        _commonPrefix = commonPrefix;
        _entries = entries;
    }

    public int Count => _entries;

    public long MemoryBytes => (_prefixes.Length * 8L) + _commonPrefix.Length;

    /// <summary>Length of the prefix shared by the covered index keys (for tests).</summary>
    public int CommonPrefixLength => _commonPrefix.Length;

    /// <summary>Builds the aid, or returns null when the index is not one entry per restart point.</summary>
    public static IndexKeyPrefixes? Build(Block index, IKeyComparer comparer)
    {
        int count = index.NumRestarts;
        if (count == 0 || index.RestartPoint(0) != 0)
        {
            return null;
        }

        var iterator = new BlockIterator(index, comparer);
        int entries = 0;
        for (iterator.SeekToFirst(); iterator.Valid; iterator.Next())
        {
            entries++;
        }

        if (entries != count)
        {
            return null;
        }

        // Sorted keys: the prefix shared by the first and the last covered key is shared by all between.
        ReadOnlySpan<byte> first = comparer.UserKey(index.RestartKey(0));
        int commonLength = first.CommonPrefixLength(comparer.UserKey(index.RestartKey(count - 1)));
        int covered = count;
        if (count >= 3)
        {
            int withoutLast = first.CommonPrefixLength(comparer.UserKey(index.RestartKey(count - 2)));
            if (withoutLast > commonLength)
            {
                commonLength = withoutLast;
                covered = count - 1;
            }
        }

        byte[] common = first.Slice(0, commonLength).ToArray();
        var prefixes = new ulong[covered];
        for (int i = 0; i < covered; i++)
        {
            prefixes[i] = PrefixAfter(comparer.UserKey(index.RestartKey(i)), common.Length);
        }

        return new IndexKeyPrefixes(prefixes, common, count);
    }

    /// <summary>
    /// Index of the first entry whose key is &gt;= <paramref name="key"/> (== Count if none), or -1 when
    /// <paramref name="userKey"/> lacks the common prefix and the caller must search the block itself.
    /// </summary>
    public int FindFirstAtOrAfter(Block index, IKeyComparer comparer, ReadOnlySpan<byte> key, ReadOnlySpan<byte> userKey)
    {
        if (!userKey.StartsWith(_commonPrefix))
        {
            return -1;
        }

        ulong target = PrefixAfter(userKey, _commonPrefix.Length);
        ulong[] prefixes = _prefixes;
        int lo = 0;
        int hi = prefixes.Length;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            ulong p = prefixes[mid];
            bool before = p < target || (p == target && comparer.Compare(index.RestartKey(mid), key) < 0);
            if (before)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        if (lo < prefixes.Length || prefixes.Length == _entries)
        {
            return lo;
        }

        // Every covered entry sorts before key: the answer is the uncovered last entry, or none.
        return comparer.Compare(index.RestartKey(_entries - 1), key) >= 0 ? _entries - 1 : _entries;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong PrefixAfter(ReadOnlySpan<byte> userKey, int skip)
    {
        ReadOnlySpan<byte> rest = userKey.Slice(skip);
        if (rest.Length >= 8)
        {
            return BinaryPrimitives.ReadUInt64BigEndian(rest);
        }

        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        rest.CopyTo(padded);
        return BinaryPrimitives.ReadUInt64BigEndian(padded);
    }
}
