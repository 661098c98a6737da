using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation;

/// <summary>Per-follower flow control: a small pipeline window under bursts, loss and partitions.</summary>
public sealed class FlowControlScenarios
{
    private const int CiSeeds = SeedSet.CiCount;

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void SmallPipelineWindowUnderBursts(int nodes) => SimulationRunner.Run(
        nameof(SmallPipelineWindowUnderBursts),
        new SimOptions { Nodes = nodes, MaxInflightMsgs = 4, Faults = LinkFaults.Unreliable },
        CiSeeds,
        c =>
        {
            for (var round = 0; round < 10; round++)
            {
                // A burst far larger than the window, proposed one entry per call so each becomes its own
                // Append; then a partition shuffle so some of the in-flight messages are lost.
                var leader = c.CheckOneLeader();
                for (var i = 0; i < 40; i++)
                {
                    c.Propose(leader, c.NewCommand($"w{i % 5}"));
                }

                var victim = c.Ids.First(id => id != leader);
                c.Isolate(victim);
                c.RunFor(c.Random.NextInRange(5, 3 * c.Options.ElectionTimeout));
                c.Rejoin(victim);
                c.One("sync", nodes / 2 + 1, retry: true);
            }
        });
}
