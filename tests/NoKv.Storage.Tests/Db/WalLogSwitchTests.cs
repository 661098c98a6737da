using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// Two logs at once (the first one's memtable not yet flushed): the switch synced the old log and started the
/// new one with a mark of its length, so damage, truncation or loss of the old log is corruption when the new
/// log holds anything, never a tail to drop (that would keep later writes while losing earlier ones).
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
        long at = image.GetFileLength(oldLog) / 2;
        image.CorruptFile(oldLog, at, [(byte)(image.ReadAllBytes(oldLog)[at] ^ 0x01)]);
        var e = Assert.Throws<CorruptionException>(() => Database.Open(Dir, new StorageOptions { FileSystem = image }));
        Assert.Equal(oldLog, e.Path);
        Assert.InRange(e.Offset, 0, at);
        Assert.Contains(newLog, e.Message);
    }

    private static (MemFileSystem Image, string OldLog, string NewLog, int Issued) TwoLogs(bool keepUnsynced = true)
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
                db.Put(Key(issued), Value(issued));
                issued++;
                if (logsAt < 0 && mem.ListFiles(Dir).Count(n => n.EndsWith(".log", StringComparison.Ordinal)) == 2)
                {
                    logsAt = issued;
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
    public void Damage_in_the_old_log_is_corruption_even_when_only_the_new_logs_synced_first_mark_survives()
    {
        // Nothing written to the new log was synced, but its first record (the mark of the old log) was.
        var (image, oldLog, newLog, _) = TwoLogs(keepUnsynced: false);
        Assert.InRange(image.ReadAllBytes(newLog).AsSpan().LastIndexOfAnyExcept((byte)0) + 1, 1, 7 + 17);
        AssertFlipInOldLogIsCorruption(image, oldLog, newLog);
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
