using NoKv.Storage.Compaction;
using NoKv.Storage.Manifest;
using NoKv.Storage.Vfs;
using Xunit;
using Version = NoKv.Storage.Manifest.Version;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// Read-triggered compaction: reads that consult several tables wear down the topmost table's budget until
/// the compaction thread merges it down; and doing so never loses, resurrects or un-snapshots data.
/// </summary>
public sealed class ReadTriggeredCompactionTests
{
    private const int Keys = 600;
    private const int Rounds = 4;

    private static byte[] K(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D5}");

    private static byte[] V(int i, int round) => System.Text.Encoding.ASCII.GetBytes($"value-{i}-round-{round}-" + new string('x', 30));

    /// <summary>
    /// Level-0 files pile up without a size-triggered compaction (the trigger is above what the test writes),
    /// so only reads can change the shape. Budgets of a few seeks make the tests quick. No filters by default:
    /// then every table a point read passes reads a data block for nothing, the case that is charged.
    /// </summary>
    private static StorageOptions Options(MemFileSystem fs, bool enabled = true, int levels = 4, long targetFileBytes = 16 << 10, int bloomBitsPerKey = 0, int minSeeks = 2) => new()
    {
        FileSystem = fs,
        BloomBitsPerKey = bloomBitsPerKey,
        MemtableSizeBytes = 1 << 20,
        TargetFileSizeBytes = targetFileBytes,
        MaxBytesForLevelBase = 1 << 20,
        Level0CompactionTrigger = 16,
        Level0SlowdownTrigger = 16,
        Level0StopTrigger = 32,
        NumLevels = levels,
        ReadTriggeredCompaction = enabled,
        ReadCompactionMinSeeks = minSeeks,
        ReadCompactionBytesPerSeek = 1L << 40,
        ReadSamplePeriodBytes = 512,
    };

    /// <summary>
    /// Round r writes the keys divisible by r + 1, each round flushed to its own level-0 file, and the last
    /// round deletes the keys divisible by 8 instead. Every file spans the whole key range, so a read of key i
    /// consults the newer files until it reaches the newest round that wrote i.
    /// </summary>
    private static bool Writes(int round, int i) => i % (round + 1) == 0;

    private static bool Deletes(int round, int i) => round == Rounds - 1 && i % 8 == 0;

    /// <param name="bottomFirst">Compact round 0 down to the last level before the other rounds, so reads must push data down several levels.</param>
    private static Database OpenWithOverlappingTables(MemFileSystem fs, bool enabled = true, Action<Database, int>? afterRound = null, bool bottomFirst = false, StorageOptions? options = null)
    {
        Database db = Database.Open("/r", options ?? Options(fs, enabled));
        for (int round = 0; round < Rounds; round++)
        {
            if (bottomFirst && round == 1)
            {
                db.CompactRange([], []);
                Assert.True(db.GetStatistics().Levels[^1].FileCount > 0);
            }

            for (int i = 0; i < Keys; i++)
            {
                if (Deletes(round, i))
                {
                    db.Delete(K(i));
                }
                else if (Writes(round, i))
                {
                    db.Put(K(i), V(i, round));
                }
            }

            db.Flush();
            afterRound?.Invoke(db, round);
        }

        Assert.Equal(bottomFirst ? Rounds - 1 : Rounds, db.GetStatistics().Levels[0].FileCount);
        return db;
    }

    /// <summary>Key i as of the end of <paramref name="round"/> (the last one by default).</summary>
    private static byte[]? Expected(int i, int round = Rounds - 1)
    {
        for (int r = round; r >= 0; r--)
        {
            if (Deletes(r, i))
            {
                return null;
            }

            if (Writes(r, i))
            {
                return V(i, r);
            }
        }

        return null;
    }

    /// <summary>Runs <paramref name="read"/> until <paramref name="done"/> holds, failing after a deadline.</summary>
    private static StorageStatistics ReadUntil(Database db, Action read, Func<StorageStatistics, bool> done)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        StorageStatistics stats = db.GetStatistics();
        while (!done(stats))
        {
            Assert.True(DateTime.UtcNow < deadline, "read-triggered compaction did not happen in time: " + stats);
            read();
            stats = db.GetStatistics();
        }

        return stats;
    }

    /// <summary>Point-reads random keys (each checked against the model) until <paramref name="done"/> holds.</summary>
    private static StorageStatistics GetRandomKeysUntil(Database db, int seed, Func<StorageStatistics, bool> done)
    {
        var rng = new Random(seed);
        return ReadUntil(
            db,
            () =>
            {
                for (int n = 0; n < 200; n++)
                {
                    int i = rng.Next(Keys);
                    Assert.Equal(Expected(i), db.Get(K(i)));
                }
            },
            done);
    }

    private static void AssertAllKeys(Database db)
    {
        for (int i = 0; i < Keys; i++)
        {
            Assert.Equal(Expected(i), db.Get(K(i)));
        }

        using StorageIterator it = db.NewIterator();
        int n = 0;
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            while (Expected(n) is null)
            {
                n++;
            }

            Assert.Equal(K(n), it.Key.ToArray());
            Assert.Equal(Expected(n), it.Value.ToArray());
            n++;
        }

        while (n < Keys && Expected(n) is null)
        {
            n++;
        }

        Assert.Equal(Keys, n);
    }

    [Fact]
    public void Point_reads_over_several_tables_get_them_compacted_and_every_answer_stays_right()
    {
        var fs = new MemFileSystem();
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        StorageOptions defaults = Options(fs);
        var options = new StorageOptions
        {
            FileSystem = fs,

            BloomBitsPerKey = defaults.BloomBitsPerKey,
            MemtableSizeBytes = defaults.MemtableSizeBytes,
            TargetFileSizeBytes = defaults.TargetFileSizeBytes,
            MaxBytesForLevelBase = defaults.MaxBytesForLevelBase,
            Level0CompactionTrigger = defaults.Level0CompactionTrigger,
            Level0SlowdownTrigger = defaults.Level0SlowdownTrigger,
            Level0StopTrigger = defaults.Level0StopTrigger,
            NumLevels = defaults.NumLevels,
            ReadCompactionMinSeeks = defaults.ReadCompactionMinSeeks,
            ReadCompactionBytesPerSeek = defaults.ReadCompactionBytesPerSeek,
            ReadSamplePeriodBytes = defaults.ReadSamplePeriodBytes,
            InfoLog = log.Enqueue,
        };
        using Database db = OpenWithOverlappingTables(fs, options: options);
        StorageStatistics stats = GetRandomKeysUntil(db, seed: 11, s => s.Levels[0].FileCount == 0);

        Assert.True(stats.ReadTriggeredCompactionCount > 0, stats.ToString());
        Assert.True(stats.ReadSampledSeeks > 0, stats.ToString());
        Assert.Contains(log, line => line.StartsWith("read-triggered compaction: table ", StringComparison.Ordinal) && line.Contains("(L0,", StringComparison.Ordinal));
        AssertAllKeys(db);
    }

    [Fact]
    public void Iterator_reads_over_several_tables_get_them_compacted_and_every_scan_stays_right()
    {
        var fs = new MemFileSystem();
        using Database db = OpenWithOverlappingTables(fs);
        StorageStatistics stats = ReadUntil(db, () => AssertAllKeys(db), s => s.Levels[0].FileCount == 0);
        Assert.True(stats.ReadTriggeredCompactionCount > 0, stats.ToString());
    }

    [Fact]
    public void Seeks_alone_are_sampled()
    {
        var fs = new MemFileSystem();
        using Database db = OpenWithOverlappingTables(fs);
        var rng = new Random(12);
        StorageStatistics stats = ReadUntil(
            db,
            () =>
            {
                using StorageIterator it = db.NewIterator();
                for (int n = 0; n < 50; n++)
                {
                    int i = rng.Next(Keys);
                    it.Seek(K(i));
                    Assert.True(it.Valid);
                    int at = i;
                    while (Expected(at) is null)
                    {
                        at++;
                    }

                    Assert.Equal(K(at), it.Key.ToArray());
                }
            },
            s => s.ReadTriggeredCompactionCount > 0);
        Assert.True(stats.ReadSampledSeeks > 0, stats.ToString());
    }

    [Fact]
    public void Point_reads_past_tables_whose_filters_rule_the_key_out_are_not_charged()
    {
        // The same reads over the same tables, with and without filters; budgets too large to run out, so the
        // shape stays and only the charges differ. Without filters a read of a key only round 0 wrote reads a
        // block of each newer table for nothing; with them those tables cost a filter probe each, which does not
        // pay for a compaction: only the filters' false positives may still charge.
        long Charges(int bloomBitsPerKey)
        {
            var fs = new MemFileSystem();
            using Database db = OpenWithOverlappingTables(fs, options: Options(fs, bloomBitsPerKey: bloomBitsPerKey, minSeeks: 1_000_000));
            for (int pass = 0; pass < 20; pass++)
            {
                for (int i = 0; i < Keys; i++)
                {
                    Assert.Equal(Expected(i), db.Get(K(i)));
                }
            }

            StorageStatistics stats = db.GetStatistics();
            Assert.Equal(0, stats.ReadTriggeredCompactionCount);
            Assert.Equal(Rounds, stats.Levels[0].FileCount);
            return stats.ReadSampledSeeks;
        }

        long unfiltered = Charges(bloomBitsPerKey: 0);
        long filtered = Charges(bloomBitsPerKey: 10);
        Assert.True(unfiltered >= 200, $"without filters: {unfiltered} charges");
        Assert.True(filtered * 10 <= unfiltered, $"with filters: {filtered} charges, without: {unfiltered}");
    }

    [Fact]
    public void Disabled_it_charges_nothing_and_leaves_the_shape_alone()
    {
        var fs = new MemFileSystem();
        using Database db = OpenWithOverlappingTables(fs, enabled: false);
        for (int pass = 0; pass < 20; pass++)
        {
            AssertAllKeys(db);
        }

        // Nothing else could compact: the level-0 file count is under its trigger.
        StorageStatistics stats = db.GetStatistics();
        Assert.Equal(0, stats.ReadSampledSeeks);
        Assert.Equal(0, stats.ReadTriggeredCompactionCount);
        Assert.Equal(Rounds, stats.Levels[0].FileCount);
    }

    [Fact]
    public void Snapshots_taken_between_rounds_still_see_their_versions_after_read_compactions()
    {
        var fs = new MemFileSystem();
        var snapshots = new List<(Snapshot Snap, int Round)>();
        using Database db = OpenWithOverlappingTables(fs, afterRound: (d, round) =>
        {
            if (round < Rounds - 1)
            {
                snapshots.Add((d.GetSnapshot(), round));
            }
        });
        try
        {
            var rng = new Random(13);
            StorageStatistics stats = ReadUntil(
                db,
                () =>
                {
                    for (int n = 0; n < 200; n++)
                    {
                        int i = rng.Next(Keys);
                        db.Get(K(i));
                    }
                },
                s => s.Levels[0].FileCount == 0);
            Assert.True(stats.ReadTriggeredCompactionCount > 0, stats.ToString());

            foreach ((Snapshot snap, int round) in snapshots)
            {
                for (int i = 0; i < Keys; i += 5)
                {
                    Assert.Equal(Expected(i, round), db.Get(K(i), new ReadOptions { Snapshot = snap }));
                }
            }
        }
        finally
        {
            foreach ((Snapshot snap, _) in snapshots)
            {
                snap.Dispose();
            }
        }

        AssertAllKeys(db);
    }

    [Fact]
    public void Deleted_keys_stay_deleted_while_reads_push_every_key_down_to_one_level_and_across_reopen()
    {
        var fs = new MemFileSystem();
        Database db = OpenWithOverlappingTables(fs, bottomFirst: true);
        try
        {
            // Keep reading until no table overlaps another: all data in one sorted level, which must be the
            // last one (round 0 lives there), so the data went down level by level.
            GetRandomKeysUntil(db, seed: 14, s => s.Levels.Count(l => l.FileCount > 0) == 1);
            StorageStatistics stats = db.GetStatistics();
            Assert.True(stats.Levels[^1].FileCount > 0, stats.ToString());
            Assert.True(stats.ReadTriggeredCompactionCount >= 3, stats.ToString());
            AssertAllKeys(db);
            db.Dispose();
            db = Database.Open("/r", Options(fs));
            AssertAllKeys(db);
        }
        finally
        {
            db.Dispose();
        }
    }

    [Fact]
    public void A_compaction_that_would_rewrite_too_much_of_the_next_level_is_skipped()
    {
        // Two levels, 1 KiB target files: round 0's ~40 KB in the last level is more than 25 target-size files,
        // so merging any level-0 file into it is too wide for a read-triggered compaction.
        var fs = new MemFileSystem();
        using Database db = OpenWithOverlappingTables(fs, bottomFirst: true, options: Options(fs, levels: 2, targetFileBytes: 1024));
        StorageStatistics stats = GetRandomKeysUntil(db, seed: 15, s => s.ReadTriggeredCompactionsSkipped > 0);
        Assert.Equal(0, stats.ReadTriggeredCompactionCount);
        Assert.Equal(Rounds - 1, stats.Levels[0].FileCount);
        AssertAllKeys(db);
    }

    /// <summary>
    /// A table is priced by its own size when it is first queued, but its compaction also rewrites the next level's
    /// overlap: a tiny level-0 table over all of level 1 must wait until its charges pay for rewriting level 1 too.
    /// (Before, YCSB E's scans got the level-0 table replayed from the log compacted into all of a 228 MB level 1 on
    /// its own 50 MB budget, then a size-triggered compaction of the overfull level 1 followed: 550 MB of compaction
    /// output on the cores the scans ran on.)
    /// </summary>
    [Fact]
    public void A_small_table_over_a_large_next_level_is_compacted_only_once_its_charges_pay_for_the_whole_rewrite()
    {
        var fs = new MemFileSystem();
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        const long bytesPerSeek = 64;
        using Database db = Database.Open("/w", new StorageOptions
        {
            FileSystem = fs,
            BloomBitsPerKey = 0,
            MemtableSizeBytes = 1 << 20,
            TargetFileSizeBytes = 1 << 20,
            MaxBytesForLevelBase = 1 << 30,
            Level0CompactionTrigger = 16,
            Level0SlowdownTrigger = 16,
            Level0StopTrigger = 32,
            NumLevels = 2,
            ReadCompactionMinSeeks = 1,
            ReadCompactionBytesPerSeek = bytesPerSeek,
            InfoLog = log.Enqueue,
        });
        for (int i = 0; i < Keys; i++)
        {
            db.Put(K(i), V(i, 0));
        }

        db.CompactRange([], []);

        // Two keys, the first and the last: a small level-0 table whose range covers all of level 1.
        db.Put(K(0), V(0, 1));
        db.Put(K(Keys - 1), V(Keys - 1, 1));
        db.Flush();
        StorageStatistics before = db.GetStatistics();
        long small = before.Levels[0].Bytes;
        long rewriteBudget = (small + before.Levels[1].Bytes) / bytesPerSeek;
        Assert.Equal(1, before.Levels[0].FileCount);
        Assert.True(small / bytesPerSeek * 10 < rewriteBudget, before.ToString());

        // Point reads of keys only level 1 holds read the level-0 table's data block for nothing and charge it.
        var rng = new Random(21);
        void Read()
        {
            for (int n = 0; n < 200; n++)
            {
                int i = 1 + rng.Next(Keys - 2);
                Assert.Equal(V(i, 0), db.Get(K(i)));
            }
        }

        // Its own budget runs out first: the compaction thread takes it, prices the rewrite and puts it back.
        StorageStatistics deferred = ReadUntil(db, Read, s => s.ReadTriggeredCompactionsDeferred > 0);
        Assert.True(deferred.ReadSampledSeeks < rewriteBudget, deferred.ToString());
        Assert.Equal(0, deferred.ReadTriggeredCompactionCount);
        Assert.Equal(1, deferred.Levels[0].FileCount);

        // Once the charges cover the rewrite, it is queued again and compacted.
        StorageStatistics after = ReadUntil(db, Read, s => s.Levels[0].FileCount == 0);
        Assert.Equal(1, after.ReadTriggeredCompactionCount);
        Assert.True(after.ReadSampledSeeks >= rewriteBudget, after.ToString());
        Assert.Contains(log, line => line.StartsWith("read-triggered compaction: table ", StringComparison.Ordinal) && line.Contains("(L0,", StringComparison.Ordinal));
        Assert.Equal(V(0, 1), db.Get(K(0)));
        Assert.Equal(V(Keys - 1, 1), db.Get(K(Keys - 1)));
        Assert.Equal(V(1, 0), db.Get(K(1)));
    }

    [Fact]
    public void A_table_is_queued_once_when_its_charges_reach_its_budget_and_stale_candidates_are_skipped()
    {
        int scheduled = 0;
        var tracker = new ReadCompactionTracker(
            new StorageOptions { ReadCompactionMinSeeks = 3, ReadCompactionBytesPerSeek = 1000, ReadSamplePeriodBytes = 1 },
            () => scheduled++);
        FileMetaData small = File(1, size: 500, "a", "m");
        FileMetaData big = File(2, size: 5000, "a", "z");
        Assert.Equal(3, tracker.Budget(small));
        Assert.Equal(5, tracker.Budget(big));

        // Both overlap "c": each sample charges the topmost (level 0) table only.
        var v = new Version([[small], [], [big]], null);
        for (int n = 0; n < 10; n++)
        {
            tracker.SampleIteratorKey(v, "c"u8);
        }

        Assert.Equal(10, tracker.ChargedSeeks);
        Assert.Equal(1, scheduled);
        Assert.True(tracker.TryTake(v, out FileMetaData file, out int level));
        Assert.Same(small, file);
        Assert.Equal(0, level);
        Assert.False(tracker.TryTake(v, out _, out _));

        // Only one table overlaps "q": nothing is charged.
        tracker.SampleIteratorKey(v, "q"u8);
        Assert.Equal(10, tracker.ChargedSeeks);

        // A candidate on the last level (nothing below to merge into) is dropped...
        FileMetaData other = File(3, size: 100, "a", "z");
        for (int n = 0; n < 5; n++)
        {
            tracker.SampleIteratorKey(new Version([[big], [small]], null), "c"u8);
        }

        Assert.Equal(2, scheduled);
        Assert.False(tracker.TryTake(new Version([[], [], [], [big]], null), out _, out _));

        // ...and so is one that is no longer in the current version.
        for (int n = 0; n < 3; n++)
        {
            tracker.SampleIteratorKey(new Version([[other], [], [big]], null), "c"u8);
        }

        Assert.Equal(3, scheduled);
        Assert.False(tracker.TryTake(new Version([[], [], [big]], null), out _, out _));
        Assert.False(tracker.HasCandidates);
    }

    private static FileMetaData File(ulong number, long size, string smallest, string largest) => new()
    {
        Number = number,
        Size = size,
        Smallest = InternalKeyOf(smallest, ulong.MaxValue >> 8),
        Largest = InternalKeyOf(largest, 0),
        SmallestSequence = 1,
        LargestSequence = 1,
        EntryCount = 10,
    };

    private static byte[] InternalKeyOf(string userKey, ulong sequence)
    {
        byte[] key = new byte[userKey.Length + InternalKey.TrailerSize];
        InternalKey.Write(key, System.Text.Encoding.ASCII.GetBytes(userKey), sequence << 8 | 1);
        return key;
    }
}
