using NoKv.Grains.Controller;
using NoKv.Replica.Controller.Balancing;
using Xunit;

namespace NoKv.Replica.Tests.Balancing;

/// <summary>Settings that would make the balancer flap or never act are refused, by name, at silo start.</summary>
public sealed class BalancerOptionsTests
{
    [Theory]
    [InlineData(0, 1, 96L << 20, "tolerances")]
    [InlineData(1, 0, 96L << 20, "tolerances")]
    [InlineData(1, 1, 0L, "SplitBytes")]
    public void Values_that_would_flap_or_never_split_are_refused(int leaderTolerance, int replicaTolerance, long splitBytes, string named)
    {
        var options = new NoKvControllerOptions { LeaderTolerance = leaderTolerance, ReplicaTolerance = replicaTolerance, SplitBytes = splitBytes };

        var result = new NoKvControllerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(named, result.FailureMessage, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Balancer(options.ToBalancerOptions()));
    }

    [Fact]
    public void The_defaults_are_valid_and_reach_the_scheduler()
    {
        var options = new NoKvControllerOptions { AutoSplit = false, SplitBytes = 1234, BalanceCooldown = TimeSpan.FromSeconds(7) };

        Assert.True(new NoKvControllerOptionsValidator().Validate(null, options).Succeeded);
        var balancer = options.ToBalancerOptions();
        Assert.False(balancer.AutoSplit);
        Assert.True(balancer.LeaderBalance);
        Assert.Equal(1234, balancer.SplitBytes);
        Assert.Equal(TimeSpan.FromSeconds(7), balancer.ShardCooldown);
        Assert.False(new NoKvControllerOptionsValidator().Validate(null, new NoKvControllerOptions { BalanceInterval = TimeSpan.Zero }).Succeeded);
        Assert.True(balancer.ReplicaLoadBalance);
        Assert.Equal(2_000, balancer.ReplicaLoadMinRequestsPerSecond);
        var flapping = new NoKvControllerOptionsValidator().Validate(null, new NoKvControllerOptions { ReplicaLoadRatio = 1 });
        Assert.True(flapping.Failed);
        Assert.Contains("ReplicaLoadRatio", flapping.FailureMessage, StringComparison.Ordinal);
    }
}
