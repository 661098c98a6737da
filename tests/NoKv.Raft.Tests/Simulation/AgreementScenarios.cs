using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation;

/// <summary>Log agreement (after the classic lab's part 2B), run in the deterministic simulation.</summary>
public sealed class AgreementScenarios
{
    private const int CiSeeds = SeedSet.CiCount;

    private static SimOptions Options(int nodes) => new() { Nodes = nodes };

    private static int Majority(int nodes) => nodes / 2 + 1;

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void BasicAgreement(int nodes) => SimulationRunner.Run(nameof(BasicAgreement), Options(nodes), CiSeeds, c =>
    {
        // Founding members may start with bootstrap entries already applied; count from there.
        var previous = c.Hosts.Max(h => h.StateMachine.AppliedIndex);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(0, c.AppliedCount(previous + 2));
            var index = c.One($"k{i}", nodes, retry: false);
            Assert.True(index > previous, $"index {index} after {previous}");
            previous = index;
        }
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void AgreementDespiteFollowerDisconnect(int nodes) => SimulationRunner.Run(nameof(AgreementDespiteFollowerDisconnect), Options(nodes), CiSeeds, c =>
    {
        c.One("a", nodes, retry: false);

        // Lose as many followers as the cluster can afford: the rest still agree.
        var leader = c.CheckOneLeader();
        var gone = c.Ids.Where(id => id != leader).Take(nodes - Majority(nodes)).ToArray();
        foreach (var id in gone)
        {
            c.Isolate(id);
        }

        c.One("b", Majority(nodes), retry: false);
        c.One("c", Majority(nodes), retry: true);
        c.RunFor(2 * c.Options.ElectionTimeout);
        c.One("d", Majority(nodes), retry: true);

        // They come back and catch up.
        foreach (var id in gone)
        {
            c.Rejoin(id);
        }

        c.One("e", nodes, retry: true);
        c.RunFor(2 * c.Options.ElectionTimeout);
        c.One("f", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void NoAgreementWithoutMajority(int nodes) => SimulationRunner.Run(nameof(NoAgreementWithoutMajority), Options(nodes) with { CheckQuorum = true }, CiSeeds, c =>
    {
        c.One("a", nodes, retry: false);

        // Disconnect a majority of the followers: the leader's proposal must not commit anywhere.
        var leader = c.CheckOneLeader();
        var gone = c.Ids.Where(id => id != leader).Take(Majority(nodes)).ToArray();
        foreach (var id in gone)
        {
            c.Isolate(id);
        }

        var result = c.Propose(leader, c.NewCommand("b"));
        Assert.True(result is { IsAccepted: true }, $"leader {leader} refused: {result}");
        var index = result!.Value.Index;
        c.RunFor(4 * c.Options.ElectionTimeout);
        Assert.Equal(0, c.AppliedCount(index));

        // Check-quorum: the isolated leader must have stepped down by now.
        Assert.False(c[leader].IsLeader, "a leader without a quorum kept leading past an election timeout");

        foreach (var id in gone)
        {
            c.Rejoin(id);
        }

        c.CheckOneLeader();
        c.One("c", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void ConcurrentStarts(int nodes) => SimulationRunner.Run(nameof(ConcurrentStarts), Options(nodes), CiSeeds, c =>
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var leader = c.CheckOneLeader();
            var accepted = new List<(KvCommand Command, ulong Index, ulong Term)>();
            for (var i = 0; i < 5; i++)
            {
                var command = c.NewCommand($"c{i}");
                if (c.Propose(leader, command) is { IsAccepted: true } result)
                {
                    accepted.Add((command, result.Index, result.Term));
                }
            }

            if (accepted.Count < 5 || accepted.Select(a => a.Term).Distinct().Count() != 1)
            {
                continue; // leadership changed mid-batch; the lab retries too
            }

            var last = accepted.Max(a => a.Index);
            Assert.True(c.RunUntil(() => c.AppliedCount(last) == nodes, 20 * c.Options.ElectionTimeout), "concurrent proposals did not commit");
            foreach (var (command, index, _) in accepted)
            {
                Assert.True(c.Ledger.TryGetAcknowledged(command.OpId, out var at), $"op{command.OpId} not acknowledged");
                Assert.Equal(index, at);
            }

            // Distinct proposals got distinct, contiguous indexes (they were batched, not reordered).
            Assert.Equal(accepted.Select(a => a.Index).OrderBy(i => i), accepted.Select(a => a.Index));
            Assert.Equal(accepted[0].Index + 4, last);
            return;
        }

        Assert.Fail("leadership kept changing; concurrent starts never ran in one term");
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void RejoinOfPartitionedLeader(int nodes) => SimulationRunner.Run(nameof(RejoinOfPartitionedLeader), Options(nodes), CiSeeds, c =>
    {
        c.One("a", nodes, retry: true);

        // The leader is partitioned away and accepts writes that can never commit.
        var leader1 = c.CheckOneLeader();
        c.Isolate(leader1);
        var orphans = new List<ulong>();
        for (var i = 0; i < 3; i++)
        {
            var command = c.NewCommand("orphan");
            c.Propose(leader1, command);
            orphans.Add(command.OpId);
        }

        // The others elect a new leader and commit.
        var others = c.Ids.Where(id => id != leader1).ToArray();
        c.One("b", Majority(nodes), retry: true);

        // The new leader is partitioned away too; the old one returns.
        var leader2 = c.CheckOneLeader(others);
        c.Isolate(leader2);
        c.Rejoin(leader1);
        c.One("c", Majority(nodes), retry: true);

        // Everyone back.
        c.Rejoin(leader2);
        c.One("d", nodes, retry: true);

        // The orphaned writes were never acknowledged (the proposer's log was overwritten).
        foreach (var op in orphans)
        {
            Assert.False(c.Ledger.TryGetAcknowledged(op, out _), $"orphaned op{op} was acknowledged");
        }
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void FastBackupOverLongDivergentLogs(int nodes) => SimulationRunner.Run(nameof(FastBackupOverLongDivergentLogs), Options(nodes), CiSeeds, c =>
    {
        var minority = nodes - Majority(nodes);
        c.One("start", nodes, retry: true);

        // Leader plus part of a minority: a long uncommitted tail.
        var leader1 = c.CheckOneLeader();
        var groupA = c.Ids.Where(id => id != leader1).Take(minority - 1).Prepend(leader1).ToArray();
        var groupB = c.Ids.Except(groupA).ToArray();
        c.Network.Partition(groupA, groupB);
        for (var i = 0; i < 50; i++)
        {
            c.Propose(leader1, c.NewCommand("lost-a"));
        }

        c.RunFor(c.Options.ElectionTimeout / 2);

        // The majority commits a long log of its own.
        for (var i = 0; i < 50; i++)
        {
            c.One("b", groupB.Length, retry: true);
        }

        // The majority loses one member; its leader builds another long uncommitted tail.
        var leader2 = c.CheckOneLeader(groupB);
        var other = groupB.First(id => id != leader2);
        var groupB2 = groupB.Where(id => id != other).ToArray();
        c.Network.Partition(groupA, groupB2, [other]);
        for (var i = 0; i < 50; i++)
        {
            c.Propose(leader2, c.NewCommand("lost-b"));
        }

        c.RunFor(c.Options.ElectionTimeout / 2);

        // The old minority plus the member that holds the committed log form a majority; the stale
        // tails must be backed over quickly, and the committed log must win.
        var groupC = groupA.Append(other).ToArray();
        c.Network.Partition(groupC, groupB2);
        for (var i = 0; i < 50; i++)
        {
            c.One("c", groupC.Length, retry: true);
        }

        c.HealNetwork();
        c.One("end", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void UnreliableAgreement(int nodes) => SimulationRunner.Run(
        nameof(UnreliableAgreement),
        Options(nodes) with { Faults = LinkFaults.Unreliable },
        CiSeeds,
        c =>
        {
            // Several clients at once: each round, several writes are proposed before waiting.
            for (var round = 0; round < 20; round++)
            {
                foreach (var id in c.Ids)
                {
                    c.Propose(id, c.NewCommand($"u{round % 4}"));
                }

                c.One($"u{round % 4}", 1, retry: true);
            }

            c.HealNetwork();
            c.One("final", nodes, retry: true);
        });
}
