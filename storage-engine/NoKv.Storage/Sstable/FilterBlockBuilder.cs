using System.Buffers;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Collects the filter keys of one table and builds its single (whole-table) bloom filter block at the end.
/// Keeps 8 bytes per distinct key while the table is being built, in arrays rented from the shared pool (half a
/// MiB for a 64 MiB table of 1 KB values: on the large object heap, garbage after every table otherwise);
/// <see cref="Release"/> gives them back. Not thread-safe.
/// </summary>
internal sealed class FilterBlockBuilder
{
    private readonly BloomFilterPolicy _policy;
    private ulong[] _hashes = ArrayPool<ulong>.Shared.Rent(1024);
    private int _count;
    private byte[] _lastKey = new byte[64];
    private int _lastKeyLength = -1;

    public FilterBlockBuilder(BloomFilterPolicy policy)
    {
        _policy = policy;
    }

    /// <summary>
    /// Adds a filter key (a user key). Consecutive duplicates, as produced by several versions of one user
    /// key in a table of internal keys, are added once.
    /// </summary>
    public void AddKey(ReadOnlySpan<byte> filterKey)
    {
        if (_lastKeyLength >= 0 && filterKey.SequenceEqual(_lastKey.AsSpan(0, _lastKeyLength)))
        {
            return;
        }

        if (_lastKey.Length < filterKey.Length)
        {
            _lastKey = new byte[Math.Max(filterKey.Length, _lastKey.Length * 2)];
        }

        filterKey.CopyTo(_lastKey);
        _lastKeyLength = filterKey.Length;

        if (_count == _hashes.Length)
        {
            ulong[] bigger = ArrayPool<ulong>.Shared.Rent(Math.Max(1024, _hashes.Length * 2));
            _hashes.AsSpan(0, _count).CopyTo(bigger);
            ulong[] old = _hashes;
            _hashes = bigger;
            if (old.Length > 0)
            {
                ArrayPool<ulong>.Shared.Return(old);
            }
        }

        _hashes[_count++] = KeyHash.Hash64(filterKey);
    }

    public byte[] Finish() => _policy.Build(_hashes.AsSpan(0, _count));

    /// <summary>Gives the key hashes back to the pool; the builder holds no keys afterwards (a later key rents again).</summary>
    public void Release()
    {
        _count = 0;
        _lastKeyLength = -1;
        if (_hashes.Length > 0)
        {
            ulong[] hashes = _hashes;
            _hashes = [];
            ArrayPool<ulong>.Shared.Return(hashes);
        }
    }
}
