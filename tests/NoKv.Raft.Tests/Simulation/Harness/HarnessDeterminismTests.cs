using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation.Harness;

/// <summary>The harness itself: a seed must replay the exact same run, and different seeds must differ.</summary>
public sealed class HarnessDeterminismTests
{
    private static (long Events, long Delivered, long Dropped, ulong Applied, ulong Digest, string Tail) RunOnce(ulong seed)
    {
        var cluster = SimulationRunner.RunSeed("determinism", new SimOptions { Nodes = 5, Seed = seed, Trace = true, Faults = LinkFaults.Unreliable }, c =>
        {
            c.CheckOneLeader();
            for (var i = 0; i < 20; i++)
            {
                c.One($"k{i % 3}", 3, retry: true);
            }

            c.Isolate(c.CheckOneLeader());
            c.RunFor(1000);
        });
        var host = cluster[1];
        return (cluster.Recorder.Count, cluster.Network.Delivered, cluster.Network.Dropped, host.StateMachine.AppliedIndex, host.StateMachine.Digest,
            cluster.Recorder.Tail(50));
    }

    [Fact]
    public void SameSeedReplaysIdentically()
    {
        var first = RunOnce(42);
        var second = RunOnce(42);
        Assert.Equal(first, second);
        Assert.True(first.Delivered > 100, $"only {first.Delivered} messages delivered");
        Assert.True(first.Dropped > 0, "an unreliable network dropped nothing");
        Assert.True(first.Applied >= 20, $"only {first.Applied} entries applied");
    }

    [Fact]
    public void DifferentSeedsDiffer()
    {
        var a = RunOnce(1);
        var b = RunOnce(2);
        Assert.NotEqual(a.Tail, b.Tail);
    }
}
