namespace NoKv.Storage.Sstable;

/// <summary>
/// How tables are built and read. The db layer derives one instance from <c>StorageOptions</c> and shares
/// it (immutable once built). <see cref="Validate"/> rejects bad values with an exception naming the option.
/// </summary>
public sealed class TableOptions
{
    /// <summary>Key order; must be the same when reading as when writing (checked at open).</summary>
    public IKeyComparer Comparer { get; init; } = BytewiseComparer.Instance;

    /// <summary>
    /// Target size of a data block's contents before it is cut. Larger blocks make the index smaller and
    /// scans faster; smaller blocks make a point read decode and cache less.
    /// </summary>
    public int BlockSizeBytes { get; init; } = 4096;

    /// <summary>
    /// Entries between full (uncompressed) keys in a data block. Larger saves space; smaller makes Seek and
    /// Prev scan fewer entries after the binary search.
    /// </summary>
    public int BlockRestartInterval { get; init; } = 16;

    /// <summary>Bloom filter bits per distinct user key; 0 writes no filter. 10 gives about 1% false positives.</summary>
    public int BloomBitsPerKey { get; init; } = 10;

    /// <summary>Verify every data block's CRC when it is read from the file (meta blocks are always verified).</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>
    /// Read data blocks through a read-only mapping of the table file when its file system can map it
    /// (<see cref="Vfs.IRandomAccessFile.TryMap"/>): a block is then verified and parsed in place, with no
    /// copy, no allocation and no block-cache entry (the OS page cache is the cache). Off here so a table
    /// opened on its own uses positional reads and the block cache; the database turns it on from
    /// <see cref="StorageOptions.UseMappedReads"/>. See <see cref="Vfs.FileMapping"/> for the failure mode.
    /// </summary>
    public bool UseMappedReads { get; init; }

    /// <summary>
    /// Codec for the data blocks of tables built with these options (index, filter and properties blocks are
    /// always stored plain: they are read once per open and stay in memory). Reading handles every codec.
    /// </summary>
    public CompressionType Compression { get; init; } = CompressionType.None;

    /// <summary>Zstandard level when <see cref="Compression"/> is <see cref="CompressionType.Zstd"/> (1-19; 3 is zstd's default).</summary>
    public int ZstdLevel { get; init; } = 3;

    public static TableOptions Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Comparer is null)
        {
            throw new ArgumentException("Comparer must be set.", nameof(Comparer));
        }

        if (BlockSizeBytes < 64 || BlockSizeBytes > (64 << 20))
        {
            throw new ArgumentException($"BlockSizeBytes must be in [64, 64 MiB], was {BlockSizeBytes}.", nameof(BlockSizeBytes));
        }

        if (BlockRestartInterval < 1 || BlockRestartInterval > 1024)
        {
            throw new ArgumentException($"BlockRestartInterval must be in [1, 1024], was {BlockRestartInterval}.", nameof(BlockRestartInterval));
        }

        if (!Enum.IsDefined(Compression))
        {
            throw new ArgumentException($"Compression {(byte)Compression} is not a known codec.", nameof(Compression));
        }

        if (ZstdLevel < 1 || ZstdLevel > 19)
        {
            throw new ArgumentException($"ZstdLevel must be in [1, 19], was {ZstdLevel}.", nameof(ZstdLevel));
        }

        if (BloomBitsPerKey < 0 || BloomBitsPerKey > 100)
        {
            throw new ArgumentException($"BloomBitsPerKey must be in [0, 100], was {BloomBitsPerKey}.", nameof(BloomBitsPerKey));
        }
    }
}
