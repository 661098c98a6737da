using NoKv.Storage.Manifest;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// File lifetime: a table leaves the directory as soon as no version (and so no reader, iterator or mapping)
/// needs it, whichever thread lets go of it last; failed deletions are retried; a table the manifest may still
/// name is never deleted.
/// </summary>
public sealed class ObsoleteFileTests
{
    private const string Dir = "/obsolete";

    private static byte[] K(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D6}");

    private static byte[] V(int i, int version, int pad = 40) =>
        System.Text.Encoding.ASCII.GetBytes($"value{i:D6}-v{version}-" + new string((char)('a' + (version % 26)), pad));

    private static StorageOptions Options(IFileSystem fs) => new()
    {
        FileSystem = fs,
        MemtableSizeBytes = 32 << 10,
        TargetFileSizeBytes = 16 << 10,
        BlockSizeBytes = 1024,
        MaxBytesForLevelBase = 128 << 10,
    };

    [Fact]
    public void A_table_an_iterator_still_reads_is_deleted_soon_after_the_iterator_is_disposed()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open(Dir, Options(fs));
        Fill(db, 2000, version: 1);
        db.CompactRange([], []);
        HashSet<string> old = Tables(fs);
        Assert.NotEmpty(old);

        StorageIterator it = db.NewIterator();
        it.Seek(K(0));
        Assert.True(it.Valid);
        Fill(db, 2000, version: 2);
        db.CompactRange([], []);

        // Out of the current version, but the iterator's view still reads them.
        Assert.Subset(Tables(fs), old);
        int n = 0;
        for (; it.Valid; it.Next(), n++)
        {
            Assert.Equal(V(n, 1), it.Value.ToArray());
        }

        Assert.Equal(2000, n);

        // Nothing else happens in the database from here on: the iterator's release alone must free them.
        it.Dispose();
        Eventually.True(() => !Tables(fs).Overlaps(old), () => $"dead tables still present: {string.Join(",", Tables(fs).Intersect(old))}");
        SettlesToLiveTables(db, fs);
        Eventually.True(() => db.GetStatistics().PendingTableDeletions == 0, () => "deleted tables still counted as pending");
        Assert.Equal(V(1999, 2), db.Get(K(1999)));
    }

    [Fact]
    public void A_snapshot_does_not_keep_replaced_tables_and_still_reads_its_versions()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open(Dir, Options(fs));
        Fill(db, 1000, version: 1);
        db.Flush();
        HashSet<string> old = Tables(fs);
        using Snapshot snapshot = db.GetSnapshot();
        Fill(db, 1000, version: 2);
        db.CompactRange([], []);

        // A snapshot pins sequence numbers, not files: compaction keeps the versions it can see in its outputs.
        Eventually.True(() => !Tables(fs).Overlaps(old), () => "a snapshot kept replaced tables alive");
        var atSnapshot = new ReadOptions { Snapshot = snapshot };
        for (int i = 0; i < 1000; i += 97)
        {
            Assert.Equal(V(i, 1), db.Get(K(i), atSnapshot));
            Assert.Equal(V(i, 2), db.Get(K(i)));
        }
    }

    [Fact]
    public async Task A_point_reader_that_lets_go_of_the_last_reference_frees_the_tables()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open(Dir, Options(fs));
        Fill(db, 2000, version: 1);
        db.CompactRange([], []);
        HashSet<string> old = Tables(fs);

        // Readers on other threads hold the old super version while the compaction installs the new one; which of
        // them drops the last reference is up to the scheduler. Whoever it is, the tables must go.
        using var stop = new CancellationTokenSource();
        Task[] readers = [.. Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            int i = r;
            while (!stop.IsCancellationRequested)
            {
                byte[]? v = db.Get(K(i % 2000));
                Assert.NotNull(v);
                i += 7;
            }
        }))];
        Fill(db, 2000, version: 2);
        db.CompactRange([], []);
        stop.Cancel();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(30));
        Eventually.True(() => !Tables(fs).Overlaps(old), () => "dead tables outlived the readers");
        SettlesToLiveTables(db, fs);
    }

    /// <summary>
    /// The interleaving behind ModelBasedTests seed 8's "No such file" from an iterator: a thread building a super
    /// version reads the current version just installed by a flush or compaction (held by the version set alone),
    /// and before it takes its reference another thread's install replaces that version and drops the version
    /// set's reference. A reference taken after that resurrects a version whose files were already released once,
    /// so they are released twice and deleted while the current version still names them. The hook puts the
    /// second install exactly there.
    /// </summary>
    [Fact]
    public void A_version_replaced_while_a_super_version_takes_it_keeps_its_tables()
    {
        var fs = new MemFileSystem();

        // One memtable holds the fill and level 0 stays under its trigger: no background work but the test's.
        using Database db = Database.Open(Dir, new StorageOptions
        {
            FileSystem = fs,
            MemtableSizeBytes = 1 << 20,
            TargetFileSizeBytes = 16 << 10,
            BlockSizeBytes = 1024,
            ReadTriggeredCompaction = false,
        });
        Fill(db, 2000, version: 1);
        db.Flush();
        Fill(db, 100, version: 2);
        VersionSet versions = db.Versions;

        // A flush's or compaction's install whose super version is not published yet.
        versions.LogAndApply(new VersionEdit(), db.LastSequence);
        int fired = 0;
        versions.AfterCurrentRead = () =>
        {
            if (Interlocked.Exchange(ref fired, 1) == 0)
            {
                versions.LogAndApply(new VersionEdit(), db.LastSequence);
            }
        };

        // The memtable switch builds a super version (the hook fires there); the flush then installs the next one.
        db.Flush();
        versions.AfterCurrentRead = null;
        Assert.Equal(1, fired);

        db.PurgeObsoleteTablesNow();
        foreach (FileMetaData[] level in versions.Current.Files)
        {
            foreach (FileMetaData f in level.Where(f => f.EntryCount > 0))
            {
                Assert.True(fs.FileExists(FileNames.Table(Dir, f.Number)), $"table {f.Number} of the current version was deleted");
            }
        }

        using (StorageIterator it = db.NewIterator())
        {
            int n = 0;
            for (it.SeekToFirst(); it.Valid; it.Next(), n++)
            {
                Assert.Equal(V(n, n < 100 ? 2 : 1), it.Value.ToArray());
            }

            Assert.Equal(2000, n);
        }

        SettlesToLiveTables(db, fs);
    }

    [Fact]
    public void A_failed_deletion_is_retried_without_waiting_for_a_reopen()
    {
        var memory = new MemFileSystem();
        var injector = new ArmableFaultInjector(FileOperation.Delete, ".sst");
        var fs = new FaultInjectingFileSystem(memory, injector);
        using Database db = Database.Open(Dir, Options(fs));
        Fill(db, 2000, version: 1);
        db.CompactRange([], []);
        HashSet<string> old = Tables(memory);
        injector.FailNext(3);
        Fill(db, 2000, version: 2);
        db.CompactRange([], []);
        Assert.True(injector.Injected > 0, "the test needs a failed deletion");
        Eventually.True(
            () => !Tables(memory).Overlaps(old) && TableBytes(memory) == LiveTableBytes(db),
            () => $"a table whose deletion failed was never retried ({injector.Injected} failures injected; {TableBytes(memory)} table bytes for {LiveTableBytes(db)} live)");
        Eventually.True(() => db.GetStatistics().PendingTableDeletions == 0, () => "the retried deletion is still counted as pending");
    }

    [Fact]
    public void Tables_of_an_edit_whose_manifest_sync_failed_are_kept_for_the_next_open()
    {
        var memory = new MemFileSystem();
        var injector = new ArmableFaultInjector(FileOperation.Sync, "MANIFEST");
        var fs = new FaultInjectingFileSystem(memory, injector);
        Database db = Database.Open(Dir, Options(fs));
        try
        {
            Fill(db, 2000, version: 1);
            db.Flush();
            Fill(db, 2000, version: 2);
            db.Flush();

            // The edit reaches the manifest file but its sync reports failure: it may well be durable, so the
            // compaction's outputs must survive (the next open decides from what the manifest says).
            injector.FailNext(1);
            Assert.ThrowsAny<IOException>(() => db.CompactRange([], []));
            Assert.Equal(1, injector.Injected);
        }
        finally
        {
            db.Dispose();
        }

        using Database reopened = Database.Open(Dir, Options(memory));
        for (int i = 0; i < 2000; i++)
        {
            Assert.Equal(V(i, 2), reopened.Get(K(i)));
        }

        SettlesToLiveTables(reopened, memory);
    }

    [Fact]
    public void Open_removes_tables_the_manifest_does_not_name()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            Fill(db, 500, version: 1);
            db.Flush();
        }

        string stray = Path.Combine(Dir, "999999.sst");
        using (IWritableFile f = fs.CreateWritable(stray))
        {
            f.Append(new byte[4096]);
            f.Sync();
        }

        using Database reopened = Database.Open(Dir, Options(fs));
        Assert.False(fs.FileExists(stray));
        Assert.Equal(V(499, 1), reopened.Get(K(499)));
        SettlesToLiveTables(reopened, fs);
    }

    [Fact]
    public void A_mapped_table_is_unmapped_and_deleted_once_its_last_reader_is_gone()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Reads /proc/self/maps.
        }

        string dir = Path.Combine(Path.GetTempPath(), "nokv-obsolete-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new StorageOptions
            {
                MemtableSizeBytes = 32 << 10,
                TargetFileSizeBytes = 16 << 10,
                UseMappedReads = true,
            };
            using Database db = Database.Open(dir, options);
            Fill(db, 2000, version: 1);
            db.CompactRange([], []);
            for (int i = 0; i < 2000; i++)
            {
                Assert.Equal(V(i, 1), db.Get(K(i)));
            }

            HashSet<string> old = [.. Directory.EnumerateFiles(dir, "*.sst")];
            Assert.NotEmpty(old);
            Assert.Contains(Mappings(), m => old.Contains(m));
            StorageIterator it = db.NewIterator();
            it.SeekToFirst();
            Fill(db, 2000, version: 2);
            db.CompactRange([], []);
            Assert.Contains(Mappings(), m => old.Contains(m));
            it.Dispose();

            Eventually.True(
                () => !old.Any(File.Exists) && !Mappings().Any(old.Contains),
                () => $"dead tables still on disk or mapped: {string.Join(",", old.Where(p => File.Exists(p) || Mappings().Contains(p)))}");
            Assert.Equal(V(0, 2), db.Get(K(0)));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>
    /// A long random mix of overwrites, deletions, snapshots, iterators left open across compactions, and reads.
    /// Whenever the readers let go and background work settles, the tables on disk must be within 1.15x the live
    /// data. Seeded; the seed is in every failure message.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Disk_use_returns_to_the_live_data_whenever_readers_let_go(int seed)
    {
        var rng = new Random(seed);
        var fs = new MemFileSystem();
        using Database db = Database.Open(Dir, new StorageOptions
        {
            FileSystem = fs,
            MemtableSizeBytes = 16 << 10,
            TargetFileSizeBytes = 8 << 10,
            BlockSizeBytes = 1024,
            MaxBytesForLevelBase = 64 << 10,
            Level0CompactionTrigger = 2,
        });
        var model = new Dictionary<int, int>();
        var iterators = new List<StorageIterator>();
        var snapshots = new List<Snapshot>();
        try
        {
            for (int round = 0; round < 8; round++)
            {
                for (int op = 0; op < 2500; op++)
                {
                    int key = rng.Next(1500);
                    int dice = rng.Next(100);
                    if (dice < 70)
                    {
                        int version = round * 10000 + op;
                        db.Put(K(key), V(key, version, pad: 60 + rng.Next(100)));
                        model[key] = version;
                    }
                    else if (dice < 80)
                    {
                        db.Delete(K(key));
                        model.Remove(key);
                    }
                    else if (dice < 85 && iterators.Count < 6)
                    {
                        StorageIterator it = db.NewIterator();
                        it.Seek(K(key));
                        iterators.Add(it);
                    }
                    else if (dice < 88 && iterators.Count > 0)
                    {
                        int victim = rng.Next(iterators.Count);
                        iterators[victim].Dispose();
                        iterators.RemoveAt(victim);
                    }
                    else if (dice < 90)
                    {
                        if (snapshots.Count < 3)
                        {
                            snapshots.Add(db.GetSnapshot());
                        }
                        else
                        {
                            snapshots[0].Dispose();
                            snapshots.RemoveAt(0);
                        }
                    }
                    else
                    {
                        byte[]? got = db.Get(K(key));
                        if (model.TryGetValue(key, out int v))
                        {
                            Assert.True(got is not null && got.AsSpan().StartsWith(V(key, v, pad: 0)), $"seed {seed}: key {key} read wrong");
                        }
                        else
                        {
                            Assert.True(got is null, $"seed {seed}: deleted key {key} was found");
                        }
                    }
                }

                if (round % 3 == 2)
                {
                    db.CompactRange([], []);
                }

                // Readers let go; background flushes and compactions finish what they started.
                foreach (StorageIterator it in iterators)
                {
                    it.Dispose();
                }

                iterators.Clear();
                db.Flush();
                Eventually.True(
                    () => TableBytes(fs) <= 1.15 * LiveTableBytes(db),
                    () => $"seed {seed}, round {round}: {TableBytes(fs)} table bytes on disk for {LiveTableBytes(db)} live");
            }
        }
        finally
        {
            foreach (StorageIterator it in iterators)
            {
                it.Dispose();
            }

            foreach (Snapshot s in snapshots)
            {
                s.Dispose();
            }
        }
    }

    private static void Fill(Database db, int count, int version)
    {
        for (int i = 0; i < count; i++)
        {
            db.Put(K(i), V(i, version));
        }
    }

    /// <summary>Once background work (compactions the test's reads or an open may have started) is done, the tables on disk are exactly the live ones.</summary>
    private static void SettlesToLiveTables(Database db, MemFileSystem fs) =>
        Eventually.True(() => TableBytes(fs) == LiveTableBytes(db), () => $"{TableBytes(fs)} table bytes on disk, {LiveTableBytes(db)} live");

    private static HashSet<string> Tables(MemFileSystem fs) =>
        [.. fs.ListFiles(Dir).Where(n => n.EndsWith(".sst", StringComparison.Ordinal))];

    private static long TableBytes(MemFileSystem fs)
    {
        long total = 0;
        foreach (string name in Tables(fs))
        {
            try
            {
                total += fs.GetFileLength(Path.Combine(Dir, name));
            }
            catch (FileNotFoundException)
            {
                // Deleted since the listing.
            }
        }

        return total;
    }

    private static long LiveTableBytes(Database db) => db.GetStatistics().LiveSstBytes;

    /// <summary>Paths of the files this process has mapped.</summary>
    private static HashSet<string> Mappings()
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                string path = line[slash..];
                paths.Add(path.EndsWith(" (deleted)", StringComparison.Ordinal) ? path[..^" (deleted)".Length] : path);
            }
        }

        return paths;
    }

    /// <summary>Fails the next few matching operations once armed.</summary>
    private sealed class ArmableFaultInjector(FileOperation operations, string pathContains) : IFaultInjector
    {
        private int _remaining;
        private int _injected;

        public int Injected => Volatile.Read(ref _injected);

        public void FailNext(int count) => Volatile.Write(ref _remaining, count);

        public FaultAction OnOperation(FileOperation operation, string path)
        {
            if ((operation & operations) == 0 || !path.Contains(pathContains, StringComparison.Ordinal))
            {
                return FaultAction.None;
            }

            int remaining = Volatile.Read(ref _remaining);
            while (remaining > 0)
            {
                int seen = Interlocked.CompareExchange(ref _remaining, remaining - 1, remaining);
                if (seen == remaining)
                {
                    Interlocked.Increment(ref _injected);
                    return FaultAction.Fail;
                }

                remaining = seen;
            }

            return FaultAction.None;
        }
    }
}
