using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Vfs;

public sealed class FaultInjectingFileSystemTests
{
    [Theory]
    [InlineData(FaultAction.Fail, 4)]
    [InlineData(FaultAction.ShortWrite, 6)]
    [InlineData(FaultAction.TornWrite, 8)]
    public void Nth_append_is_faulted_as_configured(FaultAction action, int expectedLength)
    {
        var mem = new MemFileSystem();
        mem.CreateDirectory("/d");
        var injector = new NthOperationFaultInjector(FileOperation.Append, 2, action, sticky: false);
        var fs = new FaultInjectingFileSystem(mem, injector);
        using IWritableFile f = fs.CreateWritable("/d/x");
        f.Append([1, 2, 3, 4]);
        var e = Assert.Throws<InjectedFaultException>(() => f.Append([5, 6, 7, 8]));
        Assert.Equal(FileOperation.Append, e.Operation);
        Assert.Equal(1, injector.Injected);
        Assert.Equal(expectedLength, mem.ReadAllBytes("/d/x").Length);
        Assert.Equal([1, 2, 3, 4], mem.ReadAllBytes("/d/x").AsSpan(0, 4).ToArray());
        f.Append([9]);
        Assert.Equal(expectedLength + 1, mem.ReadAllBytes("/d/x").Length);
    }

    [Fact]
    public void Sticky_sync_failure_keeps_failing()
    {
        var mem = new MemFileSystem();
        mem.CreateDirectory("/d");
        var fs = new FaultInjectingFileSystem(mem, new NthOperationFaultInjector(FileOperation.Sync, 1, FaultAction.Fail));
        using IWritableFile f = fs.CreateWritable("/d/x");
        f.Append([1]);
        Assert.Throws<InjectedFaultException>(f.Sync);
        Assert.Throws<InjectedFaultException>(f.Sync);
        Assert.Empty(mem.CrashClone().ListFiles("/d"));
    }
}
