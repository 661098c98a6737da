using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// Two logs at once (the first one's memtable not yet flushed): the flush thread synced the old log after the
/// switch and the next write put a mark of its length into the new log, so damage, truncation or loss of the old
/// log is corruption when that mark survives, never a tail to drop; without a surviving mark the damage is
/// dropped together with everything after it, the new log included (recovery keeps a prefix of the writes).
/// </summary>
public sealed class WalLogSwitchTests
{
    private const string Dir = "/sw";

    /// <summary>Holds table creation (so flushes wait and the old log stays) until released.</summary>
    private sealed class HoldFlushes : IFaultInjector, IDisposable
    {
        private readonly ManualResetEventSlim _release = new(false);

        public FaultAction OnOperation(FileOperation operation, string path)
        {
            if (operation == FileOperation.Create && path.EndsWith(".sst", StringComparison.Ordinal))
            {
                Assert.True(_release.Wait(TimeSpan.FromSeconds(30)), "flush held for 30 s");
            }

            return FaultAction.None;
        }

        public void Release() => _release.Set();

        public void Dispose()
        {
            _release.Set();
            _release.Dispose();
        }
    }

    private static byte[] Key(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D5}");

    private static byte[] Value(int i) => System.Text.Encoding.ASCII.GetBytes($"value-{i}-" + new string('x', 60));

    /// <summary>
    /// Writes unsynced until a second log has taken 20 writes, then loses power keeping every byte (so the only
    /// damage is what the test adds), or only synced ones. Returns the image, the two logs, and how many writes
    /// were issued.
    /// </summary>
    /// <summary>Flips a byte in the middle of the old log: opening must report it, naming the new log as the proof.</summary>
    private static void AssertFlipInOldLogIsCorruption(MemFileSystem image, string oldLog, string newLog)
    {
        // In the middle of the records (the file's second half is the writer's zero tail).
        long at = (image.ReadAllBytes(oldLog).AsSpan().LastIndexOfAnyExcept((byte)0) + 1) / 2;
        image.CorruptFile(oldLog, at, [(byte)(image.ReadAllBytes(oldLog)[at] ^ 0x01)]);
        var e = Assert.Throws<CorruptionException>(() => Database.Open(Dir, new StorageOptions { FileSystem = image }));
        Assert.Equal(oldLog, e.Path);
        Assert.InRange(e.Offset, 0, at);
        Assert.Contains(newLog, e.Message);
    }

    private static (MemFileSystem Image, string OldLog, string NewLog, int Issued) TwoLogs(bool keepUnsynced = true, bool syncOneInNewLog = false)
    {
        var mem = new MemFileSystem();
        using var hold = new HoldFlushes();
        var fs = new FaultInjectingFileSystem(mem, hold);
        MemFileSystem image;
        int issued = 0;
        using (Database db = Database.Open(Dir, new StorageOptions { FileSystem = fs, MemtableSizeBytes = 4096 }))
        {
            int logsAt = -1;
            while (logsAt < 0 || issued < logsAt + 20)
            {
                db.Put(Key(issued), Value(issued), syncOneInNewLog && issued == logsAt ? WriteOptions.Synced : null);
                issued++;
                if (logsAt < 0 && mem.ListFiles(Dir).Count(n => n.EndsWith(".log", StringComparison.Ordinal)) == 2)
                {
                    logsAt = issued;

                    // The flush thread syncs the old log (before the flush this test holds); the next write then
                    // carries the old log's mark into the new log.
                    Eventually.True(() => db.ClosedLogsSynced >= 1, () => "the closed log was never synced");
                }

                Assert.True(issued < 1000, "no log switch");
            }

            image = keepUnsynced ? mem.CrashClone(new KeepAllRandom()) : mem.CrashClone();
            hold.Release();
        }

        string[] logs = [.. image.ListFiles(Dir).Where(n => n.EndsWith(".log", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(n => Path.Combine(Dir, n))];
        Assert.Equal(2, logs.Length);
        return (image, logs[0], logs[1], issued);
    }

    [Fact]
    public void Both_logs_replay_when_intact()
    {
        var (image, _, _, issued) = TwoLogs();
        using Database db = Database.Open(Dir, new StorageOptions { FileSystem = image });
        for (int i = 0; i < issued; i++)
        {
            Assert.Equal(Value(i), db.Get(Key(i)));
        }

        Assert.Null(db.GetStatistics().WalRecovery.DamagedLog);
    }

    [Fact]
    public void Damage_in_the_old_log_is_corruption_when_the_new_log_has_records()
    {
        var (image, oldLog, newLog, _) = TwoLogs();
        AssertFlipInOldLogIsCorruption(image, oldLog, newLog);
    }

    [Fact]
    public void Damage_in_the_old_log_is_corruption_when_only_the_new_logs_synced_mark_survives()
    {
        // Power lost keeping only synced bytes, after one synced write in the new log: of the new log only the
        // old log's mark and that write survive, and the mark still proves the old log whole.
        var (image, oldLog, newLog, _) = TwoLogs(keepUnsynced: false, syncOneInNewLog: true);
        Assert.InRange(image.ReadAllBytes(newLog).AsSpan().LastIndexOfAnyExcept((byte)0) + 1, 7 + 17, 7 + 17 + 400);
        AssertFlipInOldLogIsCorruption(image, oldLog, newLog);
    }

    [Fact]
    public void Damage_in_the_old_log_without_a_surviving_mark_drops_it_and_the_new_log()
    {
        // Nothing of the new log was synced, so nothing proves the old log whole: the damage reads as a power
        // loss. The writes before it are kept, nothing after it (not even the new log's).
        var (image, oldLog, newLog, _) = TwoLogs(keepUnsynced: false);
        Assert.Equal(0, image.ReadAllBytes(newLog).AsSpan().LastIndexOfAnyExcept((byte)0) + 1);
        long at = (image.ReadAllBytes(oldLog).AsSpan().LastIndexOfAnyExcept((byte)0) + 1) / 2;
        image.CorruptFile(oldLog, at, [(byte)(image.ReadAllBytes(oldLog)[at] ^ 0x01)]);
        using Database db = Database.Open(Dir, new StorageOptions { FileSystem = image });
        WalRecoveryReport report = db.GetStatistics().WalRecovery;
        Assert.Equal(oldLog, report.DamagedLog);
        Assert.InRange(report.DamageOffset, 0, at);
        int present = 0;
        while (db.Get(Key(present)) is not null)
        {
            present++;
        }

        Assert.True(present > 0, "writes before the damage were dropped");
        for (int i = present; i < present + 50; i++)
        {
            Assert.Null(db.Get(Key(i)));
        }
    }

    [Fact]
    public void Old_log_cut_at_a_record_boundary_is_corruption_by_the_new_logs_mark()
    {
        // The cut log looks like it ends cleanly; only the new log's mark of its length tells it is short.
        var (image, oldLog, newLog, _) = TwoLogs();
        byte[] bytes = image.ReadAllBytes(oldLog);
        int end = bytes.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
        long cut = -1;
        using (var reader = new NoKv.Storage.Wal.LogReader(new MemoryStream(bytes), oldLog))
        {
            int n = 0;
            while (reader.TryReadRecord(out _) && ++n < 10)
            {
            }

            cut = reader.IntactEnd;
        }

        Assert.InRange(cut, 1, end - 1);
        image.CorruptFile(oldLog, cut, new byte[end - cut]);
        var e = Assert.Throws<CorruptionException>(() => Database.Open(Dir, new StorageOptions { FileSystem = image }));
        Assert.Equal(oldLog, e.Path);
        Assert.Equal(cut, e.Offset);
        Assert.Contains(newLog, e.Message);
    }

    [Fact]
    public void Missing_old_log_is_corruption()
    {
        var (image, oldLog, newLog, _) = TwoLogs();
        image.DeleteFile(oldLog);
        var e = Assert.Throws<CorruptionException>(() => Database.Open(Dir, new StorageOptions { FileSystem = image }));
        Assert.Equal(oldLog, e.Path);
        Assert.Contains("missing", e.Message);
        Assert.Contains(newLog, e.Message);
    }

    [Fact]
    public void Torn_new_log_keeps_the_whole_old_log()
    {
        var (image, oldLog, newLog, issued) = TwoLogs();
        byte[] bytes = image.ReadAllBytes(newLog);
        int end = bytes.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
        image.CorruptFile(newLog, end - 30, new byte[30]);
        using Database db = Database.Open(Dir, new StorageOptions { FileSystem = image });
        Assert.Equal(newLog, db.GetStatistics().WalRecovery.DamagedLog);
        int present = 0;
        while (present < issued && db.Get(Key(present)) is not null)
        {
            present++;
        }

        Assert.Equal(issued - 1, present);
        Assert.Null(db.Get(Key(issued - 1)));
        _ = oldLog;
    }
}
