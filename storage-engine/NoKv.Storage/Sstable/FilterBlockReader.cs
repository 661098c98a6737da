namespace NoKv.Storage.Sstable;

/// <summary>
/// A table's bloom filter as loaded at open (it lives as long as the reader, outside the block cache).
/// Immutable and thread-safe.
/// </summary>
internal sealed class FilterBlockReader
{
    private readonly byte[] _contents;
    private readonly int _numLines;
    private readonly int _numProbes;

    private FilterBlockReader(byte[] contents, int numLines, int numProbes)
    {
        _contents = contents;
        _numLines = numLines;
        _numProbes = numProbes;
    }

    public int SizeBytes => _contents.Length;

    /// <summary>Validates and wraps filter block contents; throws <see cref="CorruptionException"/> if malformed.</summary>
    public static FilterBlockReader Parse(byte[] contents, string path, long offset)
    {
        if (contents.Length < 2 || (contents.Length - 2) % BloomFilterPolicy.LineBytes != 0)
        {
            throw new CorruptionException(path, offset, $"filter block of {contents.Length} bytes is not whole lines plus 2 bytes");
        }

        byte layout = contents[^1];
        if (layout != TableFormat.FilterLayoutBlockedBloom)
        {
            throw new CorruptionException(path, offset, $"unknown filter layout {layout}");
        }

        int numProbes = contents[^2];
        if (numProbes < 1 || numProbes > 30)
        {
            throw new CorruptionException(path, offset, $"filter probe count {numProbes} is out of range");
        }

        return new FilterBlockReader(contents, (contents.Length - 2) / BloomFilterPolicy.LineBytes, numProbes);
    }

    /// <summary>False means no key with this filter key was added; true means it may have been.</summary>
    public bool MayContain(ReadOnlySpan<byte> filterKey) =>
        BloomFilterPolicy.MayContain(_contents, _numLines, _numProbes, KeyHash.Hash64(filterKey));
}
