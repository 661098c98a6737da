using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation;

/// <summary>Leadership transfer (TimeoutNow) to named nodes: healthy, lagging, unreachable, and under faults.</summary>
public sealed class LeadershipTransferScenarios
{
    private const int CiSeeds = SeedSet.CiCount;

    private static SimOptions Options(int nodes) => new() { Nodes = nodes, MaxDiskLatency = 2 };

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void TransferToEveryFollower(int nodes) => SimulationRunner.Run(nameof(TransferToEveryFollower), Options(nodes), CiSeeds, c =>
    {
        c.One("start", nodes, retry: true);
        foreach (var target in c.Ids.ToArray())
        {
            var leader = c.CheckOneLeader();
            if (leader == target)
            {
                continue;
            }

            // Ask through the leader half of the time and through the target (forwarded) otherwise.
            var via = c.Random.Chance(0.5) ? leader : target;
            var result = c[via].TransferLeadership(target);
            Assert.True(result is { IsAccepted: true }, $"transfer via {via} refused: {result}");

            // A transfer to an up-to-date node takes about one round trip, far less than an election timeout.
            Assert.True(
                c.RunUntil(() => c.AgreedLeader(c.Ids) == target, 2 * c.Options.ElectionTimeout),
                $"leadership did not move from {leader} to {target}");
            c.One($"after-{target}", nodes, retry: false);
        }
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void TransferToLaggingNodeCatchesItUpFirst(int nodes) => SimulationRunner.Run(nameof(TransferToLaggingNodeCatchesItUpFirst), Options(nodes), CiSeeds, c =>
    {
        var leader = c.CheckOneLeader();
        var target = c.Ids.First(id => id != leader);
        c.Crash(target);
        for (var i = 0; i < 30; i++)
        {
            c.One($"k{i}", nodes - 1, retry: true);
        }

        c.Restart(target);
        leader = c.CheckOneLeader();
        var result = c[leader].TransferLeadership(target);
        Assert.True(result is { IsAccepted: true }, $"transfer refused: {result}");
        Assert.True(c.RunUntil(() => c.AgreedLeader(c.Ids) == target, 10 * c.Options.ElectionTimeout), $"lagging {target} never took over");
        c.One("end", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void TransferToUnreachableNodeIsAbandoned(int nodes) => SimulationRunner.Run(nameof(TransferToUnreachableNodeIsAbandoned), Options(nodes), CiSeeds, c =>
    {
        c.One("start", nodes, retry: true);
        var leader = c.CheckOneLeader();
        var target = c.Ids.First(id => id != leader);
        c.Isolate(target);
        c.RunFor(c.Options.ElectionTimeout / 2);
        c[leader].TransferLeadership(target);
        c.RunFor(c.Options.TickInterval);

        // While the transfer is pending the leader refuses new writes ...
        var during = c.Propose(leader, c.NewCommand("during"));
        Assert.True(during is { Status: ProposalStatus.LeadershipTransferInProgress } || !c[leader].IsLeader, $"unexpected answer during transfer: {during}");

        // ... and gives up after an election timeout, keeping leadership and accepting writes again.
        c.RunFor(2 * c.Options.ElectionTimeout);
        Assert.Equal(leader, c.CheckOneLeader(c.Ids.Where(id => id != target).ToArray()));
        c.One("after", nodes - 1, retry: false);
        c.Rejoin(target);
        c.One("end", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void TransfersUnderChurn(int nodes) => SimulationRunner.Run(
        nameof(TransfersUnderChurn),
        Options(nodes) with { Faults = LinkFaults.Unreliable },
        CiSeeds,
        c =>
        {
            var all = c.Ids.ToArray();
            c.StartClients(2, 10);
            for (var i = 0; i < 25; i++)
            {
                var via = c.Random.Pick(all);
                var target = c.Random.Pick(all);
                c[via].TransferLeadership(target);
                if (c.Random.Chance(0.3))
                {
                    var victim = c.Random.Pick(all);
                    c.Isolate(victim);
                    c.RunFor(c.Random.NextInRange(1, c.Options.ElectionTimeout));
                    c.Rejoin(victim);
                }

                if (c.Random.Chance(0.2))
                {
                    c.Reboot(c.Random.Pick(all));
                }

                c.RunFor(c.Random.NextInRange(1, c.Options.ElectionTimeout));
            }

            c.StopClients();
            c.HealNetwork();
            c.One("end", nodes, retry: true);
        });
}
