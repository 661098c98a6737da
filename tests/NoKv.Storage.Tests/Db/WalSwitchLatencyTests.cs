using System.Collections.Concurrent;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// A memtable switch does not fsync on the write path: the old log is synced by the flush thread, unsynced
/// writes go on while that sync is in progress, and a synced write waits until the old log is durable.
/// </summary>
public sealed class WalSwitchLatencyTests
{
    private const string Dir = "/lat";

    /// <summary>Blocks the first fdatasync of the first log until released, and records every log sync in order.</summary>
    private sealed class BlockFirstLogSync : IFaultInjector, IDisposable
    {
        private readonly ManualResetEventSlim _release = new(false);
        private int _blocked;

        public ConcurrentQueue<string> Syncs { get; } = new();

        public string? FirstLog { get; set; }

        public bool Blocking => Volatile.Read(ref _blocked) == 1 && !_release.IsSet;

        public FaultAction OnOperation(FileOperation operation, string path)
        {
            if (operation == FileOperation.Sync && path.EndsWith(".log", StringComparison.Ordinal))
            {
                if (path == FirstLog && Interlocked.CompareExchange(ref _blocked, 1, 0) == 0)
                {
                    Assert.True(_release.Wait(TimeSpan.FromSeconds(30)), "old log sync held for 30 s");
                }

                Syncs.Enqueue(path);
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

    private static byte[] Key(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D6}");

    private static byte[] Value(int i) => System.Text.Encoding.ASCII.GetBytes($"value-{i}-" + new string('v', 100));

    [Fact]
    public async Task Writes_continue_while_the_old_log_syncs_and_a_synced_write_waits_for_it()
    {
        var mem = new MemFileSystem();
        using var injector = new BlockFirstLogSync();
        var fs = new FaultInjectingFileSystem(mem, injector);
        using Database db = Database.Open(Dir, new StorageOptions { FileSystem = fs, MemtableSizeBytes = 16 << 10 });
        injector.FirstLog = Path.Combine(Dir, mem.ListFiles(Dir).Single(n => n.EndsWith(".log", StringComparison.Ordinal)));

        // Fill the first memtable until it is switched; the flush thread then blocks syncing the first log.
        int written = 0;
        while (mem.ListFiles(Dir).Count(n => n.EndsWith(".log", StringComparison.Ordinal)) < 2)
        {
            db.Put(Key(written), Value(written));
            written++;
            Assert.True(written < 10_000, "the memtable was never switched");
        }

        Eventually.True(() => injector.Blocking, () => "the flush thread never started syncing the old log");

        // Unsynced writes complete while the old log's sync is stuck (before, the switch itself synced it). Fewer
        // than fill the new memtable: a second switch would wait for the flush this test holds.
        for (int i = 0; i < 50; i++, written++)
        {
            db.Put(Key(written), Value(written));
        }

        Assert.True(injector.Blocking);
        Assert.Equal(0, db.ClosedLogsSynced);

        // A synced write must not be acknowledged before the old log is durable.
        int syncedKey = written++;
        Task synced = Task.Run(() => db.Put(Key(syncedKey), Value(syncedKey), WriteOptions.Synced));
        Assert.False(synced.IsCompleted && injector.Blocking, "a synced write was acknowledged while an earlier log was unsynced");
        injector.Release();
        await synced.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(db.ClosedLogsSynced >= 1);

        string[] syncs = [.. injector.Syncs];
        int oldLogSync = Array.IndexOf(syncs, injector.FirstLog);
        Assert.True(oldLogSync >= 0, "the old log was never synced");
        Assert.True(syncs.Skip(oldLogSync + 1).Any(p => p != injector.FirstLog), $"no later log synced after the old one: {string.Join(", ", syncs)}");
        Assert.All(syncs.Take(oldLogSync), p => Assert.Equal(injector.FirstLog, p));

        for (int i = 0; i < written; i++)
        {
            Assert.Equal(Value(i), db.Get(Key(i)));
        }
    }

    [Fact]
    public void A_synced_write_after_a_switch_survives_power_loss_with_everything_before_it()
    {
        var mem = new MemFileSystem();
        int written = 0;
        MemFileSystem image;
        using (Database db = Database.Open(Dir, new StorageOptions { FileSystem = mem, MemtableSizeBytes = 16 << 10 }))
        {
            // Several switches of unsynced writes, then one synced write: every earlier write is then durable.
            while (mem.ListFiles(Dir).Count(n => n.EndsWith(".log", StringComparison.Ordinal)) < 2 || written < 600)
            {
                db.Put(Key(written), Value(written));
                written++;
            }

            db.Put(Key(written), Value(written), WriteOptions.Synced);
            written++;
            image = mem.CrashClone();
        }

        using Database reopened = Database.Open(Dir, new StorageOptions { FileSystem = image });
        for (int i = 0; i < written; i++)
        {
            Assert.Equal(Value(i), reopened.Get(Key(i)));
        }
    }
}
