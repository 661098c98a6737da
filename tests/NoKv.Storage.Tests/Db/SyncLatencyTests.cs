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
        var injector = new DelayingFaultInjector();
        var fs = new FaultInjectingFileSystem(new MemFileSystem(), injector);
        using var db = Database.Open("/db", new StorageOptions { FileSystem = fs, UseMappedReads = false });
        var latency = db.WalSyncLatency;

        var batch = new WriteBatch();
        batch.Put("a"u8, "1"u8);
        await db.WriteAsync(batch, WriteOptions.Synced);
        long before = latency.Completed;
        Assert.True(before >= 1);
        latency.TakeSlowest();

        // Unsynced writes are not syncs.
        batch.Clear();
        batch.Put("b"u8, "2"u8);
        await db.WriteAsync(batch, WriteOptions.Default);
        Assert.Equal(before, latency.Completed);

        injector.Delay = TimeSpan.FromMilliseconds(300);
        batch.Clear();
        batch.Put("c"u8, "3"u8);
        var write = db.WriteAsync(batch, WriteOptions.Synced).AsTask();

        // While the sync waits, its age is visible (wait on the condition, not on time).
        var deadline = Stopwatch.StartNew();
        while (latency.InFlight(Stopwatch.GetTimestamp()) < TimeSpan.FromMilliseconds(100) && !write.IsCompleted && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(5);
        }

        Assert.False(write.IsCompleted);
        await write;
        Assert.Equal(TimeSpan.Zero, latency.InFlight(Stopwatch.GetTimestamp()));
        Assert.True(latency.TakeSlowest() >= TimeSpan.FromMilliseconds(290));
        Assert.Equal(TimeSpan.Zero, latency.TakeSlowest());
        Assert.Equal(before + 1, latency.Completed);
    }
}
