using NoKv.Grains.Store;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Replica.Tests.LocalStorage;

public sealed class SlowDiskControlTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("nokv-slowdisk-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void The_control_file_turns_the_delay_on_changes_it_and_turns_it_off()
    {
        string file = Path.Combine(_dir.FullName, "slow-disk");
        var control = new SlowDiskControl(file, new MemFileSystem());
        Assert.IsType<FaultInjectingFileSystem>(control.FileSystem);

        Assert.Null(control.Poll(out var problem)); // no file: normal, nothing changed
        Assert.Null(problem);
        Assert.Equal(TimeSpan.Zero, control.Delay);

        File.WriteAllText(file, "250\n");
        Assert.Equal(TimeSpan.FromMilliseconds(250), control.Poll(out problem));
        Assert.Equal(TimeSpan.FromMilliseconds(250), control.Injector.Delay);
        Assert.Null(control.Poll(out problem)); // unchanged file: no change reported

        File.WriteAllText(file, "40");
        Assert.Equal(TimeSpan.FromMilliseconds(40), control.Poll(out problem));

        File.WriteAllText(file, "0");
        Assert.Equal(TimeSpan.Zero, control.Poll(out problem));

        File.WriteAllText(file, "17");
        Assert.Equal(TimeSpan.FromMilliseconds(17), control.Poll(out problem));
        File.Delete(file);
        Assert.Equal(TimeSpan.Zero, control.Poll(out problem));
        Assert.Null(problem);
    }

    [Fact]
    public void A_malformed_file_keeps_the_current_delay_and_is_reported_once()
    {
        string file = Path.Combine(_dir.FullName, "slow-disk");
        var control = new SlowDiskControl(file, new MemFileSystem());
        File.WriteAllText(file, "100");
        control.Poll(out _);

        File.WriteAllText(file, "fast please");
        Assert.Null(control.Poll(out var problem));
        Assert.Contains("not a whole number of milliseconds", problem, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromMilliseconds(100), control.Delay);
        Assert.Null(control.Poll(out problem));
        Assert.Null(problem);

        File.WriteAllText(file, "-5");
        Assert.Null(control.Poll(out problem));
        Assert.NotNull(problem);
        Assert.Equal(TimeSpan.FromMilliseconds(100), control.Delay);
    }

    [Fact]
    public async Task The_running_switch_delays_the_engine_syncs_of_a_live_file_system()
    {
        string file = Path.Combine(_dir.FullName, "slow-disk");
        var mem = new MemFileSystem();
        mem.CreateDirectory("/d");
        var control = new SlowDiskControl(file, mem);
        var changes = new List<TimeSpan>();
        using var stop = new CancellationTokenSource();
        var loop = control.RunAsync(d => { lock (changes) { changes.Add(d); } }, _ => { }, stop.Token);

        File.WriteAllText(file, "5");
        await WaitUntilAsync(() => control.Delay == TimeSpan.FromMilliseconds(5));
        using (var f = control.FileSystem.CreateWritable("/d/x"))
        {
            f.Append([1]);
            f.Sync();
        }

        Assert.Equal(1, control.Injector.Delayed);
        File.Delete(file);
        await WaitUntilAsync(() => control.Delay == TimeSpan.Zero);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop);
        lock (changes)
        {
            Assert.Equal([TimeSpan.FromMilliseconds(5), TimeSpan.Zero], changes);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the control file's change was not picked up within 10 s");
            await Task.Delay(20);
        }
    }
}
