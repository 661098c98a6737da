using System.Diagnostics;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>The write path's sync latency, as a slow-disk detector above the engine reads it.</summary>
public sealed class SyncLatencyTests
{
    [Fact]
    public async Task A_synced_write_on_a_slow_disk_shows_as_a_slow_sync_in_flight_and_then_completed()
    {
        var disk = new HeldSyncs();
        var fs = new FaultInjectingFileSystem(new MemFileSystem(), disk);
        using var db = Database.Open("/db", new StorageOptions { FileSystem = fs, UseMappedReads = false });
        var latency = db.WalSyncLatency;

        var batch = new WriteBatch();
        batch.Put("a"u8, "1"u8);
        await db.WriteAsync(batch, WriteOptions.Synced);
        long before = latency.Completed;
        Assert.True(before >= 1);

        // Unsynced writes are not syncs.
        batch.Clear();
        batch.Put("b"u8, "2"u8);
        await db.WriteAsync(batch, WriteOptions.Default);
        Assert.Equal(before, latency.Completed);
        latency.TakeSlowest();

        // The next log sync blocks until released: while it does, its age is visible and grows.
        disk.Hold();
        batch.Clear();
        batch.Put("c"u8, "3"u8);
        var write = db.WriteAsync(batch, WriteOptions.Synced).AsTask();
        Assert.True(disk.Entered.Wait(TimeSpan.FromSeconds(30)), "the synced write reached its sync");
        var held = Stopwatch.StartNew();
        var first = latency.InFlight(Stopwatch.GetTimestamp());
        Assert.True(first > TimeSpan.Zero);
        while (held.Elapsed < TimeSpan.FromMilliseconds(50))
        {
            await Task.Delay(10);
        }

        Assert.True(latency.InFlight(Stopwatch.GetTimestamp()) >= first + TimeSpan.FromMilliseconds(40));
        Assert.False(write.IsCompleted);
        disk.Release();
        await write;

        Assert.Equal(TimeSpan.Zero, latency.InFlight(Stopwatch.GetTimestamp()));
        Assert.True(latency.TakeSlowest() >= TimeSpan.FromMilliseconds(50));
        Assert.Equal(TimeSpan.Zero, latency.TakeSlowest());
        Assert.True(latency.Completed > before);
    }

    /// <summary>A disk whose next file sync, once <see cref="Hold"/> is called, waits until <see cref="Release"/>.</summary>
    private sealed class HeldSyncs : IFaultInjector
    {
        private readonly ManualResetEventSlim _gate = new(true);
        private volatile bool _holding;

        public ManualResetEventSlim Entered { get; } = new(false);

        public void Hold()
        {
            _gate.Reset();
            _holding = true;
        }

        public void Release()
        {
            _holding = false;
            _gate.Set();
        }

        public FaultAction OnOperation(FileOperation operation, string path)
        {
            if (_holding && operation == FileOperation.Sync)
            {
                Entered.Set();
                _gate.Wait(TimeSpan.FromSeconds(30));
            }

            return FaultAction.None;
        }
    }
}
