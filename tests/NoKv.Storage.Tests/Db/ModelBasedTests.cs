using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// Random operations against the engine and against a sorted dictionary; every read, snapshot read and
/// iteration (both directions, with bounds) must agree. Small memtables and files make flushes and
/// compactions happen constantly. Fixed seed per case; the seed and step are in every failure message.
/// </summary>
public sealed class ModelBasedTests
{
    private readonly ITestOutputHelper _output;

    public ModelBasedTests(ITestOutputHelper output) => _output = output;

    /// <summary>
    /// Eight seeds by default. Soak: <c>NOKV_SOAK_SEEDS=500 dotnet test tests/NoKv.Storage.Tests -c Release
    /// --filter ModelBased</c> runs seeds 1..500.
    /// </summary>
    public static IEnumerable<object[]> Seeds()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("NOKV_SOAK_SEEDS"), out int n) && n > 0 ? n : 8;
        return Enumerable.Range(1, count).Select(seed => new object[] { seed, 5000 });
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Engine_matches_sorted_dictionary_model(int seed, int steps)
    {
        var rng = new Random(seed);
        var fs = new MemFileSystem();
        var options = new StorageOptions
        {
            FileSystem = fs,
            MemtableSizeBytes = 2048 + rng.Next(4096),
            TargetFileSizeBytes = 2048,
            BlockSizeBytes = 256,
            MaxBytesForLevelBase = 8192,
            Level0CompactionTrigger = 2,
            LevelSizeMultiplier = 4,
            NumLevels = 4,
            BlockCacheBytes = seed % 2 == 0 ? 0 : 1 << 20,
            BloomBitsPerKey = seed % 3 == 0 ? 0 : 10,

            // Plain tables, LZ4 everywhere, or plain at the top and Zstandard below, by seed.
            CompressionPerLevel = (seed % 3) switch
            {
                0 => null,
                1 => [NoKv.Storage.Sstable.CompressionType.Lz4],
                _ => [NoKv.Storage.Sstable.CompressionType.None, NoKv.Storage.Sstable.CompressionType.Zstd],
            },

            // Most seeds read tables through the (pinned in-memory) mapping, the rest through positional reads.
            UseMappedReads = seed % 4 != 1,

            // Read-triggered compaction is on by default; most seeds give tables budgets of a few seeks so reads
            // keep reshaping the tree under the model's checks, one seed in four keeps the default budgets.
            ReadCompactionMinSeeks = seed % 4 == 3 ? 100 : 1 + rng.Next(4),
            ReadCompactionBytesPerSeek = seed % 4 == 3 ? 16 << 10 : 1L << 40,
            ReadSamplePeriodBytes = seed % 4 == 3 ? 1 << 20 : 256 + rng.Next(4096),

            // Three seeds in four keep values from 8-47 bytes up in value files (values here are 0-59 bytes), cut
            // into small files, with garbage collection eager (0.9) or at the default threshold (0.5), collecting a
            // single file per compaction (1 KiB budget) or all of them.
            ValueLogMinValueBytes = seed % 4 == 2 ? 0 : 8 + (seed * 13 % 40),
            ValueFileSizeBytes = 1024 + (seed * 977 % 4096),
            ValueLogGcLiveRatio = seed % 2 == 0 ? 0.9 : 0.5,
            ValueLogGcBytesPerCompaction = seed % 3 == 0 ? 64L << 20 : 1024,
        };
        var model = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        var snapshots = new List<(Snapshot Snap, SortedDictionary<byte[], byte[]> Model)>();
        Database db = Database.Open("/m", options);
        int step = 0;
        long totalFlushes = 0;
        long totalCompactions = 0;
        long totalReadCompactions = 0;
        long totalValueFiles = 0;
        try
        {
            for (step = 0; step < steps; step++)
            {
                int op = rng.Next(100);
                if (op < 40)
                {
                    byte[] k = Key(rng);
                    byte[] v = Value(rng);
                    db.Put(k, v, rng.Next(20) == 0 ? WriteOptions.Synced : null);
                    model[k] = v;
                }
                else if (op < 50)
                {
                    byte[] k = Key(rng);
                    db.Delete(k);
                    model.Remove(k);
                }
                else if (op < 53)
                {
                    byte[] a = Key(rng);
                    byte[] b = Key(rng);
                    if (a.AsSpan().SequenceCompareTo(b) > 0)
                    {
                        (a, b) = (b, a);
                    }

                    db.DeleteRange(a, b);
                    RemoveRange(model, a, b);
                }
                else if (op < 60)
                {
                    var batch = new WriteBatch();
                    int n = 1 + rng.Next(8);
                    for (int i = 0; i < n; i++)
                    {
                        byte[] k = Key(rng);
                        if (rng.Next(4) == 0)
                        {
                            batch.Delete(k);
                            model.Remove(k);
                        }
                        else
                        {
                            byte[] v = Value(rng);
                            batch.Put(k, v);
                            model[k] = v;
                        }
                    }

                    if (rng.Next(2) == 0)
                    {
                        db.Write(batch);
                    }
                    else
                    {
                        await db.WriteAsync(batch);
                    }
                }
                else if (op < 75)
                {
                    byte[] k = Key(rng);
                    model.TryGetValue(k, out byte[]? expected);
                    Assert.True(Same(expected, db.Get(k)), $"seed {seed} step {step}: Get {Hex(k)}");
                }
                else if (op < 78)
                {
                    if (snapshots.Count < 4)
                    {
                        snapshots.Add((db.GetSnapshot(), new SortedDictionary<byte[], byte[]>(model, ByteArrayComparer.Bytewise)));
                    }
                    else
                    {
                        int i = rng.Next(snapshots.Count);
                        snapshots[i].Snap.Dispose();
                        snapshots.RemoveAt(i);
                    }
                }
                else if (op < 84)
                {
                    if (snapshots.Count > 0)
                    {
                        var (snap, m) = snapshots[rng.Next(snapshots.Count)];
                        byte[] k = Key(rng);
                        m.TryGetValue(k, out byte[]? expected);
                        Assert.True(Same(expected, db.Get(k, new ReadOptions { Snapshot = snap })), $"seed {seed} step {step}: snapshot Get {Hex(k)}");
                        if (rng.Next(3) == 0)
                        {
                            CheckIteration(db, m, snap, rng, seed, step);
                        }
                    }
                }
                else if (op < 92)
                {
                    CheckIteration(db, model, null, rng, seed, step);
                }
                else if (op < 93)
                {
                    db.Flush();
                }
                else if (op < 94)
                {
                    IngestRandomRange(db, model, fs, rng, step);
                }
                else if (op < 96)
                {
                    byte[] a = Key(rng);
                    byte[] b = Key(rng);
                    if (a.AsSpan().SequenceCompareTo(b) > 0)
                    {
                        (a, b) = (b, a);
                    }

                    db.CompactRange(rng.Next(3) == 0 ? [] : a, rng.Next(3) == 0 ? [] : b);
                }
                else if (rng.Next(4) == 0)
                {
                    totalFlushes += db.GetStatistics().FlushCount;
                    totalCompactions += db.GetStatistics().CompactionCount;
                    totalReadCompactions += db.GetStatistics().ReadTriggeredCompactionCount;
                    totalValueFiles += db.GetStatistics().ValueFilesCreated;
                    foreach (var s in snapshots)
                    {
                        s.Snap.Dispose();
                    }

                    snapshots.Clear();
                    db.Dispose();
                    db = Database.Open("/m", options);
                }
            }

            CheckIteration(db, model, null, rng, seed, step);
            StorageStatistics stats = db.GetStatistics();
            _output.WriteLine(stats.ToString());
            totalFlushes += stats.FlushCount;
            totalCompactions += stats.CompactionCount;
            totalReadCompactions += stats.ReadTriggeredCompactionCount;
            totalValueFiles += stats.ValueFilesCreated;
            _output.WriteLine($"seed {seed}: flushes {totalFlushes} compactions {totalCompactions} read-triggered {totalReadCompactions}");
            Assert.True(totalFlushes > 10 && totalCompactions > 3, $"seed {seed}: too little background work to be a meaningful test");
            if (options.CompressionPerLevel is not null)
            {
                // Closed first: a background compaction's output is read whole only once nothing writes it.
                db.Dispose();
                int compressedTables = fs.ListFiles("/m")
                    .Where(name => name.EndsWith(".sst", StringComparison.Ordinal))
                    .Count(name => fs.FileExists("/m/" + name) && IsCompressedTable(fs, "/m/" + name));
                Assert.True(compressedTables > 0, $"seed {seed}: a codec is configured but no table holds a compressed block");
            }

            if (options.ValueLogMinValueBytes > 0)
            {
                Assert.True(totalValueFiles > 0, $"seed {seed}: the value log is on but no value file was written");
            }
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            _output.WriteLine($"seed {seed} failed at step {step}");
            throw new InvalidOperationException($"seed {seed} step {step}: {e.Message}", e);
        }
        finally
        {
            db.Dispose();
        }
    }

    /// <summary>False for a table deleted after the listing or cut short by the close that abandoned its compaction.</summary>
    private static bool IsCompressedTable(MemFileSystem fs, string path)
    {
        try
        {
            byte[] table = fs.ReadAllBytes(path);
            return table.Length >= NoKv.Storage.Sstable.TableFormat.FooterSize
                && FooterVersion(table) == NoKv.Storage.Sstable.TableFormat.FormatVersionCompressed;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    private static void CheckIteration(Database db, SortedDictionary<byte[], byte[]> model, Snapshot? snap, Random rng, int seed, int step)
    {
        byte[]? lower = rng.Next(3) == 0 ? Key(rng) : null;
        byte[]? upper = rng.Next(3) == 0 ? Key(rng) : null;
        if (lower is not null && upper is not null && lower.AsSpan().SequenceCompareTo(upper) > 0)
        {
            (lower, upper) = (upper, lower);
        }

        var expected = new List<KeyValuePair<byte[], byte[]>>();
        foreach (var kv in model)
        {
            if ((lower is null || kv.Key.AsSpan().SequenceCompareTo(lower) >= 0) && (upper is null || kv.Key.AsSpan().SequenceCompareTo(upper) < 0))
            {
                expected.Add(kv);
            }
        }

        using StorageIterator it = db.NewIterator(new ReadOptions { Snapshot = snap, LowerBound = lower, UpperBound = upper });
        string where = $"seed {seed} step {step} bounds [{Hex(lower)}, {Hex(upper)})";
        switch (rng.Next(4))
        {
            case 0:
                {
                    int i = 0;
                    for (it.SeekToFirst(); it.Valid; it.Next(), i++)
                    {
                        Assert.True(i < expected.Count, $"{where}: forward has extra key {Hex(it.Key.ToArray())}");
                        Assert.True(expected[i].Key.AsSpan().SequenceEqual(it.Key) && expected[i].Value.AsSpan().SequenceEqual(it.Value), $"{where}: forward #{i}");
                    }

                    Assert.True(expected.Count == i, $"{where}: forward count {i} != {expected.Count}");
                    break;
                }

            case 1:
                {
                    int i = expected.Count - 1;
                    for (it.SeekToLast(); it.Valid; it.Prev(), i--)
                    {
                        Assert.True(i >= 0, $"{where}: reverse has extra key {Hex(it.Key.ToArray())}");
                        Assert.True(expected[i].Key.AsSpan().SequenceEqual(it.Key) && expected[i].Value.AsSpan().SequenceEqual(it.Value), $"{where}: reverse #{i}");
                    }

                    Assert.True(i == -1, $"{where}: reverse stopped early at {i}");
                    break;
                }

            case 2:
                {
                    // Seek, then wander in both directions.
                    byte[] target = Key(rng);
                    it.Seek(target);
                    int i = expected.FindIndex(kv => kv.Key.AsSpan().SequenceCompareTo(target) >= 0);
                    if (i < 0)
                    {
                        i = expected.Count;
                    }

                    Wander(it, expected, i, rng, where + $" seek {Hex(target)}");
                    break;
                }

            default:
                {
                    byte[] target = Key(rng);
                    it.SeekForPrev(target);
                    int i = expected.FindLastIndex(kv => kv.Key.AsSpan().SequenceCompareTo(target) <= 0);
                    Wander(it, expected, i, rng, where + $" seekforprev {Hex(target)}");
                    break;
                }
        }
    }

    private static void Wander(StorageIterator it, List<KeyValuePair<byte[], byte[]>> expected, int i, Random rng, string where)
    {
        for (int moves = 0; moves < 20; moves++)
        {
            bool inRange = i >= 0 && i < expected.Count;
            Assert.True(inRange == it.Valid, $"{where}: valid={it.Valid} expected index {i} move {moves}");
            if (!inRange)
            {
                return;
            }

            Assert.True(expected[i].Key.AsSpan().SequenceEqual(it.Key), $"{where}: key at move {moves}: got {Hex(it.Key.ToArray())} want {Hex(expected[i].Key)}");
            Assert.True(expected[i].Value.AsSpan().SequenceEqual(it.Value), $"{where}: value at move {moves}");
            if (rng.Next(2) == 0)
            {
                it.Next();
                i++;
            }
            else
            {
                it.Prev();
                i--;
            }
        }
    }

    /// <summary>Builds a stream of random entries in a random range with a scratch database, ingests it, mirrors it in the model.</summary>
    private static void IngestRandomRange(Database db, SortedDictionary<byte[], byte[]> model, MemFileSystem fs, Random rng, int step)
    {
        byte[] a = Key(rng);
        byte[] b = Key(rng);
        if (a.AsSpan().SequenceCompareTo(b) > 0)
        {
            (a, b) = (b, a);
        }

        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        int n = rng.Next(30);
        for (int i = 0; i < n; i++)
        {
            byte[] k = Key(rng);
            if (k.AsSpan().SequenceCompareTo(a) >= 0 && k.AsSpan().SequenceCompareTo(b) < 0)
            {
                entries[k] = Value(rng);
            }
        }

        var stream = new MemoryStream();
        using (Database scratch = Database.Open($"/scratch{step}", new StorageOptions { FileSystem = fs }))
        {
            foreach (var kv in entries)
            {
                scratch.Put(kv.Key, kv.Value);
            }

            scratch.ExportRange(a, b, stream);
        }

        stream.Position = 0;
        Assert.Equal(entries.Count, db.IngestRange(a, b, stream));
        RemoveRange(model, a, b);
        foreach (var kv in entries)
        {
            model[kv.Key] = kv.Value;
        }
    }

    private static void RemoveRange(SortedDictionary<byte[], byte[]> model, byte[] a, byte[] b)
    {
        var doomed = new List<byte[]>();
        foreach (byte[] k in model.Keys)
        {
            if (k.AsSpan().SequenceCompareTo(a) >= 0 && k.AsSpan().SequenceCompareTo(b) < 0)
            {
                doomed.Add(k);
            }
        }

        foreach (byte[] k in doomed)
        {
            model.Remove(k);
        }
    }

    private static byte[] Key(Random rng)
    {
        // A small key space so overwrites, deletes and range deletes hit existing keys often.
        int n = rng.Next(400);
        return rng.Next(10) == 0 ? [(byte)(n % 256)] : System.Text.Encoding.ASCII.GetBytes($"k{n:D3}");
    }

    private static byte[] Value(Random rng)
    {
        byte[] v = new byte[rng.Next(60)];
        if (rng.Next(2) == 0)
        {
            rng.NextBytes(v);
        }
        else
        {
            // Repetitive, so blocks of tables written with a codec really are compressed.
            v.AsSpan().Fill((byte)('a' + rng.Next(4)));
        }

        return v;
    }

    private static uint FooterVersion(byte[] table) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(table.Length - NoKv.Storage.Sstable.TableFormat.FooterSize + 48));

    private static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static string Hex(byte[]? k) => k is null ? "null" : Convert.ToHexString(k);
}
