using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// An asynchronous write that must wait for compaction never waits on its caller's thread: in a silo that thread is an
/// Orleans scheduler thread every grain shares, and a bulk load of 1 GiB held such threads for a second at a time while
/// level 0 was full (the followers on that store missed heartbeats and called elections).
/// </summary>
public sealed class StalledAsyncWriteTests
{
    [Fact]
    public async Task An_unsynced_write_that_must_wait_for_compaction_returns_to_its_caller_at_once_and_completes_after()
    {
        var disk = new HeldTableSync();
        var fs = new FaultInjectingFileSystem(new MemFileSystem(), disk);
        using var db = Database.Open("/db", new StorageOptions
        {
            FileSystem = fs,
            UseMappedReads = false,
            MemtableSizeBytes = 4096,
            Level0CompactionTrigger = 2,
            Level0SlowdownTrigger = 2,
            Level0StopTrigger = 2,
        });

        // Two overlapping level-0 tables: the second starts a compaction, whose output table's sync is held.
        Put(db, "a", "1");
        Put(db, "z", "1");
        db.Flush();
        disk.HoldSecondTableSync();
        Put(db, "a", "2");
        Put(db, "z", "2");
        db.Flush();
        Assert.True(disk.Entered.Wait(TimeSpan.FromSeconds(30)), "the compaction reached its output's sync");

        // Fill the memtable: with level 0 at the stop trigger, the next write cannot proceed until the compaction ends.
        var fill = new WriteBatch();
        fill.Put("m"u8, new byte[5000]);
        db.Write(fill);

        var batch = new WriteBatch();
        batch.Put("b"u8, "3"u8);
        var write = db.WriteAsync(batch, WriteOptions.Default);

        bool returnedBeforeCompaction = !write.IsCompleted;
        disk.Release();
        await write.AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(returnedBeforeCompaction, "the write waited for the compaction on its caller's thread");
        Assert.Equal("3"u8.ToArray(), db.Get("b"u8));
        Assert.Equal("2"u8.ToArray(), db.Get("a"u8));
    }

    private static void Put(Database db, string key, string value)
    {
        var batch = new WriteBatch();
        batch.Put(System.Text.Encoding.UTF8.GetBytes(key), System.Text.Encoding.UTF8.GetBytes(value));
        db.Write(batch);
    }

    /// <summary>Once armed, lets the next table sync pass (the flush's) and holds the one after (the compaction's).</summary>
    private sealed class HeldTableSync : IFaultInjector
    {
        private readonly ManualResetEventSlim _gate = new(true);
        private int _armed;
        private int _passed;

        public ManualResetEventSlim Entered { get; } = new(false);

        public void HoldSecondTableSync()
        {
            _gate.Reset();
            Volatile.Write(ref _armed, 1);
        }

        public void Release()
        {
            Volatile.Write(ref _armed, 0);
            _gate.Set();
        }

        public FaultAction OnOperation(FileOperation operation, string path)
        {
            if (operation == FileOperation.Sync && path.EndsWith(".sst", StringComparison.Ordinal) && Volatile.Read(ref _armed) == 1
                && Interlocked.Increment(ref _passed) >= 2)
            {
                Entered.Set();
                _gate.Wait(TimeSpan.FromSeconds(10));
            }

            return FaultAction.None;
        }
    }
}
