using ZoneTree;
using ZoneTree.Comparers;
using ZoneTree.Options;
using ZoneTree.Serializers;

namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>
/// ZoneTree (NuGet `ZoneTree`, a pure C# LSM tree) with byte[] keys and values ordered bytewise.
/// ZoneTree sizes its memtable ("mutable segment") in records, not bytes, has no byte-bounded block
/// cache and no per-table bloom filter setting; the mapping below is the nearest equivalent and is
/// printed with the results. A maintainer moves full mutable segments to disk and merges in the
/// background, which is ZoneTree's flush/compaction.
/// </summary>
public sealed class ZoneTreeBenchEngine : IBenchEngine
{
    private readonly IZoneTree<byte[], byte[]> _tree;
    private readonly IMaintainer _maintainer;
    private readonly List<string> _notes = [];

    public ZoneTreeBenchEngine(string path, EngineSettings settings)
    {
        var recordsPerMemtable = (int)Math.Max(1024, settings.MemtableBytes / (KeyValueFormat.KeySize + KeyValueFormat.ValueSize));
        _tree = new ZoneTreeFactory<byte[], byte[]>()
            .SetDataDirectory(path)
            .SetComparer(new BytesLexicographicComparerAscending())
            .SetKeySerializer(new BytesSerializer())
            .SetValueSerializer(new BytesSerializer())
            .SetMutableSegmentMaxItemCount(recordsPerMemtable)
            .SetMutableSegmentBloomFilterBitsPerItem(settings.BloomBitsPerKey)
            .ConfigureWriteAheadLogOptions(wal => wal.WriteAheadLogMode = WriteAheadLogMode.Sync)
            .ConfigureDiskSegmentOptions(disk => disk.CompressionMethod = settings.Compression switch
            {
                "lz4" => CompressionMethod.LZ4,
                "zstd" => CompressionMethod.Zstd,
                _ => CompressionMethod.None,
            })
            .DisableDeletion()
            .OpenOrCreate();
        _maintainer = _tree.CreateMaintainer();
        _notes.Add($"ZoneTree: memtable = {recordsPerMemtable:N0} records (memtable bytes / 116 B per record), bloom {settings.BloomBitsPerKey} bits/record on the mutable segment " +
                   $"(ZoneTree has no per-table bloom setting), disk segment compression {settings.Compression}, default caches (no byte-bounded block cache), " +
                   "WAL mode Sync (each write appended to the WAL file, no fsync), background maintainer on");
        _notes.Add("ZoneTree fillsync: Upsert then SyncWALAsync() per write (ZoneTree has no per-write durability flag); " +
                   "concurrent fillsync runs the same from 32 threads, so any grouping comes from concurrent SyncWALAsync calls");
    }

    public string Name => "zonetree";

    public IReadOnlyList<string> Notes => _notes;

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool sync)
    {
        // The tree keeps the arrays it is given, so every write needs fresh ones.
        var keyArray = key.ToArray();
        var valueArray = value.ToArray();
        _tree.Upsert(in keyArray, in valueArray);
        if (sync)
        {
            _tree.SyncWALAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    public IBenchReader CreateReader() => new ZoneTreeBenchReader(_tree);

    public IBenchIterator CreateIterator() => new ZoneTreeBenchIterator(_tree.CreateIterator(new IteratorOptions
    {
        IteratorType = IteratorType.NoRefresh,
        IncludeDeletedRecords = false,
        ContributeToTheBlockCache = true,
    }));

    public void Flush()
    {
        _maintainer.EvictToDisk();
        _maintainer.WaitForBackgroundThreads();
    }

    public double? EngineWriteAmplification() => null;

    public string? DescribeState()
    {
        var maintenance = _tree.Maintenance;
        return $"records in memory={maintenance.InMemoryRecordCount} read-only segments={maintenance.ReadOnlySegmentsCount} " +
               $"bottom segments={maintenance.BottomSegments.Count} total records={maintenance.TotalRecordCount}";
    }

    public void Dispose()
    {
        _maintainer.WaitForBackgroundThreads();
        _maintainer.Dispose();
        _tree.Dispose();
    }
}
