using NoKv.Storage.Compaction;
using NoKv.Storage.Manifest;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// Subcompactions (<see cref="StorageOptions.MaxSubcompactions"/>): one compaction merged as disjoint key ranges on
/// several threads. They must keep exactly what one merge keeps, and a crash or an I/O fault while the ranges run
/// must leave the database as it was before the compaction, with no table of a finished range left behind.
/// </summary>
public sealed class SubcompactionTests
{
    private const string Dir = "/sub";

    private static StorageOptions Options(IFileSystem fs, int maxSubcompactions) => new()
    {
        FileSystem = fs,
        MaxSubcompactions = maxSubcompactions,
        MemtableSizeBytes = 8 << 10,
        TargetFileSizeBytes = 2 << 10,
        BlockSizeBytes = 512,
        MaxBytesForLevelBase = 8 << 10,
        Level0CompactionTrigger = 2,
        NumLevels = 4,
        ReadTriggeredCompaction = false,
    };

    private static byte[] K(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D5}");

    private static byte[] V(int i, int round) => System.Text.Encoding.ASCII.GetBytes($"v{i}-r{round}-" + new string('x', 20 + (i % 17)));

    [Fact]
    public void Splits_are_the_next_levels_table_boundaries_that_halve_or_third_the_bytes()
    {
        FileMetaData[] lower =
        [
            TestTables.Meta(10, 100, "b", "c"), TestTables.Meta(11, 100, "d", "e"), TestTables.Meta(12, 100, "f", "g"),
            TestTables.Meta(13, 100, "h", "i"), TestTables.Meta(14, 100, "j", "k"), TestTables.Meta(15, 100, "l", "m"),
        ];
        var plan = new CompactionPlan(0, 1, [TestTables.Meta(1, 50, "a", "z")], [.. lower]);

        Assert.Empty(Database.SubcompactionSplits(plan, 1));
        Assert.Equal(["h"], Database.SubcompactionSplits(plan, 2).Select(Ascii));
        Assert.Equal(["f", "j"], Database.SubcompactionSplits(plan, 3).Select(Ascii));

        // Never more ranges than tables below, and none without two of them.
        Assert.Equal(5, Database.SubcompactionSplits(plan, 16).Count);
        Assert.Empty(Database.SubcompactionSplits(new CompactionPlan(0, 1, [TestTables.Meta(1, 50, "a", "z")], [lower[0]]), 4));

        // Weighted by size: a large first table is a range of its own.
        var skewed = new CompactionPlan(1, 2, [TestTables.Meta(1, 50, "a", "z")], [TestTables.Meta(10, 1000, "b", "c"), TestTables.Meta(11, 100, "d", "e"), TestTables.Meta(12, 100, "f", "g")]);
        Assert.Equal(["d"], Database.SubcompactionSplits(skewed, 2).Select(Ascii));
    }

    [Fact]
    public void Split_compactions_keep_exactly_what_one_merge_keeps_for_every_snapshot()
    {
        var single = new MemFileSystem();
        var split = new MemFileSystem();
        using Database one = Database.Open(Dir, Options(single, 1));
        using Database four = Database.Open(Dir, Options(split, 4));
        var rng = new Random(5);
        var snapshots = new List<(Snapshot One, Snapshot Four)>();
        for (int round = 0; round < 6; round++)
        {
            for (int n = 0; n < 700; n++)
            {
                int i = rng.Next(1500);
                Apply(db => db.Put(K(i), V(i, round)));
                if (rng.Next(10) == 0)
                {
                    int d = rng.Next(1500);
                    Apply(db => db.Delete(K(d)));
                }
            }

            int start = rng.Next(1400);
            int length = 1 + rng.Next(60);
            Apply(db => db.DeleteRange(K(start), K(start + length)));
            if (round % 2 == 0)
            {
                snapshots.Add((one.GetSnapshot(), four.GetSnapshot()));
            }
        }

        one.CompactRange([], []);
        four.CompactRange([], []);

        Assert.Equal(Contents(one, null), Contents(four, null));
        foreach ((Snapshot a, Snapshot b) in snapshots)
        {
            Assert.Equal(Contents(one, a), Contents(four, b));
        }

        Assert.Equal(0, one.GetStatistics().SubcompactionCount);
        StorageStatistics stats = four.GetStatistics();
        Assert.True(stats.SubcompactionCount > 0, stats.ToString());

        void Apply(Action<Database> op)
        {
            op(one);
            op(four);
        }
    }

    public static IEnumerable<object[]> CrashPoints() => Enumerable.Range(1, 12).Select(n => new object[] { n });

    /// <summary>
    /// Power goes at the n-th table append made by a range on its own thread: the crash lands inside a split
    /// compaction. Every synced write acknowledged before it survives, and the recovered database holds the writes
    /// of some prefix, reads them back after compacting again, and keeps no table its manifest does not name.
    /// </summary>
    [Theory]
    [MemberData(nameof(CrashPoints))]
    public void Power_loss_while_ranges_merge_keeps_every_acknowledged_write_and_no_stray_table(int n)
    {
        var mem = new MemFileSystem();
        int acknowledged = 0;
        var crash = new CrashInSubcompaction(mem, n, () => Volatile.Read(ref acknowledged));
        var fs = new FaultInjectingFileSystem(mem, crash);
        const int Writes = 3000;
        using (Database db = Database.Open(Dir, Options(fs, 3)))
        {
            for (int w = 0; w < Writes && crash.Clone is null; w++)
            {
                var (key, value) = Op(w);
                db.Put(key, value, WriteOptions.Synced);
                Volatile.Write(ref acknowledged, w + 1);
                if (w % 500 == 499)
                {
                    db.CompactRange([], []);
                }
            }
        }

        Assert.NotNull(crash.Clone);
        int durable = crash.AcknowledgedAtCrash;
        using (Database db = Database.Open(Dir, Options(crash.Clone, 3)))
        {
            Dictionary<string, string> recovered = Contents(db, null);
            int prefix = Enumerable.Range(durable, Writes - durable + 1).FirstOrDefault(p => Same(Model(p), recovered), -1);
            Assert.True(prefix >= durable, $"crash point {n}: the recovered state is no prefix of at least {durable} writes");

            db.CompactRange([], []);
            Assert.Equal(recovered, Contents(db, null));
            MemFileSystem disk = crash.Clone;
            Eventually.True(
                () => disk.ListFiles(Dir).Count(f => f.EndsWith(".sst", StringComparison.Ordinal)) == db.GetStatistics().Levels.Sum(l => l.FileCount),
                () => $"crash point {n}: tables on disk are not the live ones: {db.GetStatistics()}");
        }
    }

    [Fact]
    public void A_failed_range_deletes_the_tables_the_other_ranges_wrote_and_loses_nothing()
    {
        var mem = new MemFileSystem();

        // The first append of a range's own thread fails once the tree has the shape that splits compactions.
        var fail = new FailInSubcompaction();
        var fs = new FaultInjectingFileSystem(mem, fail);
        int acknowledged = 0;
        int tablesOnDisk;
        int liveTables;
        Database db = Database.Open(Dir, Options(fs, 3));
        try
        {
            try
            {
                for (int w = 0; w < 3000 && fail.Failed == 0; w++)
                {
                    var (key, value) = Op(w);
                    db.Put(key, value, WriteOptions.Synced);
                    acknowledged = w + 1;
                }

                db.CompactRange([], []);
            }
            catch (IOException)
            {
                // The failed compaction: the database refuses further work.
            }

            Assert.True(fail.Failed > 0, "no range failed");

            // The other ranges finished (or stopped) and their tables are gone again; the inputs stay live.
            Eventually.True(() => db.GetStatistics().PendingTableDeletions == 0, () => "obsolete tables not deleted: " + db.GetStatistics());
            liveTables = db.GetStatistics().Levels.Sum(l => l.FileCount);
            tablesOnDisk = mem.ListFiles(Dir).Count(f => f.EndsWith(".sst", StringComparison.Ordinal));
        }
        finally
        {
            try
            {
                db.Dispose();
            }
            catch (IOException)
            {
                // Closing after a background failure reports it again.
            }
        }

        Assert.Equal(liveTables, tablesOnDisk);
        using Database reopened = Database.Open(Dir, Options(mem, 3));
        Dictionary<string, string> recovered = Contents(reopened, null);

        // A write refused once the failure surfaced may still have reached the log.
        Assert.True(Same(Model(acknowledged), recovered) || Same(Model(acknowledged + 1), recovered), $"{acknowledged} writes acknowledged; recovered {recovered.Count} keys");
    }

    /// <summary>Write w puts one of 1,200 keys, so later rounds overwrite earlier ones.</summary>
    private static (byte[] Key, byte[] Value) Op(int w) => (K((w * 7919) % 1200), V(w, w / 1200));

    private static Dictionary<string, string> Model(int writes)
    {
        var model = new Dictionary<string, string>();
        for (int w = 0; w < writes; w++)
        {
            var (key, value) = Op(w);
            model[System.Text.Encoding.ASCII.GetString(key)] = System.Text.Encoding.ASCII.GetString(value);
        }

        return model;
    }

    private static bool Same(Dictionary<string, string> a, Dictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out string? v) && v == kv.Value);

    private static Dictionary<string, string> Contents(Database db, Snapshot? snapshot)
    {
        var result = new Dictionary<string, string>();
        using StorageIterator it = db.NewIterator(new ReadOptions { Snapshot = snapshot });
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            result[System.Text.Encoding.ASCII.GetString(it.Key)] = System.Text.Encoding.ASCII.GetString(it.Value);
        }

        return result;
    }

    private static string Ascii(byte[] b) => System.Text.Encoding.ASCII.GetString(b);


    private static bool OnRangeThread() => Thread.CurrentThread.Name == "nokv-subcompaction";

    /// <summary>Takes a power-loss copy of the disk at the n-th table append made on a range's own thread.</summary>
    private sealed class CrashInSubcompaction(MemFileSystem mem, int n, Func<int> acknowledged) : IFaultInjector
    {
        private int _seen;

        public MemFileSystem? Clone { get; private set; }

        public int AcknowledgedAtCrash { get; private set; }

        public FaultAction OnOperation(FileOperation operation, string path)
        {
            if (operation == FileOperation.Append && path.EndsWith(".sst", StringComparison.Ordinal) && OnRangeThread() &&
                Interlocked.Increment(ref _seen) == n)
            {
                // Read first: a write acknowledged before the copy is synced, so it is in the copy.
                AcknowledgedAtCrash = acknowledged();
                Clone = mem.CrashClone();
            }

            return FaultAction.None;
        }
    }

    /// <summary>Fails the first table append made on a range's own thread (and only that one).</summary>
    private sealed class FailInSubcompaction : IFaultInjector
    {
        private int _failed;

        public int Failed => Volatile.Read(ref _failed);

        public FaultAction OnOperation(FileOperation operation, string path) =>
            operation == FileOperation.Append && path.EndsWith(".sst", StringComparison.Ordinal) && OnRangeThread() &&
            Interlocked.CompareExchange(ref _failed, 1, 0) == 0
                ? FaultAction.Fail
                : FaultAction.None;
    }
}
