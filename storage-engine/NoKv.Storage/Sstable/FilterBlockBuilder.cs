namespace NoKv.Storage.Sstable;

/// <summary>
/// Collects the filter keys of one table and builds its single (whole-table) bloom filter block at the end.
/// Keeps 8 bytes per distinct key while the table is being built. Not thread-safe.
/// </summary>
internal sealed class FilterBlockBuilder
{
    private readonly BloomFilterPolicy _policy;
    private ulong[] _hashes = new ulong[1024];
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
            Array.Resize(ref _hashes, _hashes.Length * 2);
        }

        _hashes[_count++] = KeyHash.Hash64(filterKey);
    }

    public byte[] Finish() => _policy.Build(_hashes.AsSpan(0, _count));
}
