using NoKv.Chaos.Faults;
using Xunit;

namespace NoKv.Chaos.Tests;

/// <summary>Fault kinds and soak switches as the command line gives them.</summary>
public sealed class ChaosOptionsTests
{
    [Fact]
    public void SlowDiskIsAKnownFaultButNotInTheDefaultRotation()
    {
        Assert.Equal(FaultKind.SlowDisk, FaultNames.Parse("slow-disk"));
        Assert.Equal("slow-disk", FaultNames.Name(FaultKind.SlowDisk));
        Assert.DoesNotContain(FaultKind.SlowDisk, ChaosOptions.Parse([]).Faults);
        Assert.Equal([FaultKind.SlowDisk, FaultKind.Kill], ChaosOptions.Parse(["--faults", "slow-disk,kill", "--slow-disk-ms", "50"]).Faults);
        Assert.Equal(50, ChaosOptions.Parse(["--faults", "slow-disk", "--slow-disk-ms", "50"]).SlowDiskMs);
        Assert.Contains("slow disk 50 ms per sync", ChaosOptions.Parse(["--faults", "slow-disk", "--slow-disk-ms", "50"]).Describe(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ChaosOptions.Parse(["--faults", "slow-disks"]));
    }

    [Fact]
    public void ASoakIsOneRunOfItsMinutesWithEveryFaultKindUnlessTold()
    {
        var soak = ChaosOptions.Parse(["--soak", "30"]);
        Assert.Equal(1, soak.Runs);
        Assert.Equal(TimeSpan.FromMinutes(30), soak.Duration);
        Assert.Equal(Enum.GetValues<FaultKind>(), soak.Faults);
        Assert.Equal([FaultKind.Pause], ChaosOptions.Parse(["--soak", "5", "--faults", "pause"]).Faults);

        Assert.Throws<ArgumentException>(() => ChaosOptions.Parse(["--soak", "30", "--runs", "2"]));
        Assert.Throws<ArgumentException>(() => ChaosOptions.Parse(["--soak", "30", "--etcd"]));
        Assert.Throws<ArgumentException>(() => ChaosOptions.Parse(["--soak", "2"]));
        Assert.Throws<ArgumentException>(() => ChaosOptions.Parse(["--soak", "-1"]));
    }
}
