using System.Diagnostics;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Vfs;

public sealed class DelayingFaultInjectorTests
{
    [Fact]
    public void Syncs_wait_only_while_the_delay_is_on_and_every_operation_still_succeeds()
    {
        var mem = new MemFileSystem();
        mem.CreateDirectory("/d");
        var injector = new DelayingFaultInjector();
        var fs = new FaultInjectingFileSystem(mem, injector);
        using IWritableFile f = fs.CreateWritable("/d/x");

        f.Append([1]);
        f.Sync();
        Assert.Equal(0, injector.Delayed);

        injector.Delay = TimeSpan.FromMilliseconds(30);
        var clock = Stopwatch.StartNew();
        f.Append([2]);
        f.Flush();
        f.Sync();
        fs.SyncDirectory("/d");
        clock.Stop();
        Assert.Equal(2, injector.Delayed); // the sync and the directory sync; not the append or the flush
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(55), $"two delayed syncs took {clock.Elapsed.TotalMilliseconds} ms");

        injector.Delay = TimeSpan.Zero;
        f.Append([3]);
        f.Sync();
        Assert.Equal(2, injector.Delayed);
        Assert.Equal([1, 2, 3], mem.CrashClone().ReadAllBytes("/d/x"));
    }

    [Fact]
    public void The_operations_delayed_are_configurable_and_a_negative_delay_is_refused()
    {
        var mem = new MemFileSystem();
        mem.CreateDirectory("/d");
        var injector = new DelayingFaultInjector(FileOperation.Append) { Delay = TimeSpan.FromMilliseconds(1) };
        var fs = new FaultInjectingFileSystem(mem, injector);
        using IWritableFile f = fs.CreateWritable("/d/x");
        f.Append([1]);
        f.Sync();
        Assert.Equal(1, injector.Delayed);
        Assert.Throws<ArgumentOutOfRangeException>(() => injector.Delay = TimeSpan.FromMilliseconds(-1));
        Assert.Equal(TimeSpan.FromMilliseconds(1), injector.Delay);
    }
}
