using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation;

/// <summary>Leader election (after the classic lab's part 2A), run in the deterministic simulation.</summary>
public sealed class ElectionScenarios
{
    private const int CiSeeds = SeedSet.CiCount;

    // Several of these assert what pre-vote and check-quorum guarantee (stable terms, a deaf leader
    // stepping down, progress under a bridge), so both stay on.
    private static SimOptions Options(int nodes) => new() { Nodes = nodes, PreVote = true, CheckQuorum = true };

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void InitialElection(int nodes) => SimulationRunner.Run(nameof(InitialElection), Options(nodes), CiSeeds, c =>
    {
        var leader = c.CheckOneLeader();
        var term = c[leader].Term;

        // With a healthy network and check-quorum, nothing should disturb the leader or the term.
        c.RunFor(5 * c.Options.ElectionTimeout);
        Assert.Equal(leader, c.CheckOneLeader());
        Assert.All(c.Hosts, h => Assert.Equal(term, h.Term));
        c.One("k", nodes, retry: false);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void ReElection(int nodes) => SimulationRunner.Run(nameof(ReElection), Options(nodes), CiSeeds, c =>
    {
        var all = c.Ids.ToArray();
        var leader1 = c.CheckOneLeader();

        // The leader vanishes: the rest elect a new one.
        c.Isolate(leader1);
        var rest = all.Where(id => id != leader1).ToArray();
        var leader2 = c.CheckOneLeader(rest);
        Assert.NotEqual(leader1, leader2);

        // The old leader returns; it must not disturb the new leader's majority (pre-vote, check-quorum).
        c.Rejoin(leader1);
        var leader3 = c.CheckOneLeader(all);

        // Cut a majority away: nobody can lead.
        var cut = all.OrderBy(id => id == leader3 ? 0 : 1).ThenBy(id => id).Take(nodes / 2 + 1).ToArray();
        foreach (var id in cut)
        {
            c.Isolate(id);
        }

        c.RunFor(4 * c.Options.ElectionTimeout);
        var remaining = all.Except(cut).ToArray();
        c.CheckNoLeader(remaining);
        foreach (var id in cut)
        {
            c.CheckNoLeader([id]);
        }

        // One comes back (to the remaining nodes only): a majority again.
        foreach (var id in remaining)
        {
            c.Network.Connect(cut[1], id);
        }

        c.CheckOneLeader(remaining.Append(cut[1]).ToArray());

        foreach (var id in cut)
        {
            c.Rejoin(id);
        }

        c.CheckOneLeader(all);
        c.One("k", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void ManyElections(int nodes) => SimulationRunner.Run(nameof(ManyElections), Options(nodes), CiSeeds, c =>
    {
        var all = c.Ids.ToArray();
        c.CheckOneLeader();
        for (var round = 0; round < 10; round++)
        {
            // Disconnect a random minority each round; the majority must always (re)elect.
            var cut = all.OrderBy(_ => c.Random.NextUInt64()).Take((nodes - 1) / 2).ToArray();
            foreach (var id in cut)
            {
                c.Isolate(id);
            }

            c.CheckOneLeader(all.Except(cut).ToArray());
            foreach (var id in cut)
            {
                c.Rejoin(id);
            }
        }

        c.CheckOneLeader(all);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void LeaderThatCannotHearIsReplaced(int nodes) => SimulationRunner.Run(nameof(LeaderThatCannotHearIsReplaced), Options(nodes), CiSeeds, c =>
    {
        // One-way partition: the leader still reaches everyone but hears nobody. Followers keep getting
        // heartbeats, so only check-quorum on the leader can break the deadlock: it must step down, and
        // the others must elect someone else and make progress.
        c.One("a", nodes, retry: true);
        var leader = c.CheckOneLeader();
        foreach (var id in c.Ids.Where(id => id != leader))
        {
            c.Network.CutOneWay(id, leader);
        }

        var others = c.Ids.Where(id => id != leader).ToArray();
        var next = c.CheckOneLeader(others);
        Assert.NotEqual(leader, next);
        c.One("b", nodes - 1, retry: true);

        // The deaf node must not keep disrupting the new leader: terms stay put once things settle.
        c.RunFor(2 * c.Options.ElectionTimeout);
        var term = c[next].Term;
        c.RunFor(10 * c.Options.ElectionTimeout);
        Assert.Equal(term, c[c.CheckOneLeader(others)].Term);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void BridgePartitionStillMakesProgress(int nodes) => SimulationRunner.Run(nameof(BridgePartitionStillMakesProgress), Options(nodes), CiSeeds, c =>
    {
        // Two halves that cannot talk, joined by one node that sees both. A leader on either side plus
        // the bridge is a majority; pre-vote and check-quorum must keep the other side from deposing it
        // over and over, so writes keep committing.
        var all = c.Ids.ToArray();
        for (var round = 0; round < 3; round++)
        {
            var shuffled = all.OrderBy(_ => c.Random.NextUInt64()).ToArray();
            var half = (nodes - 1) / 2;
            c.Network.Bridge(shuffled[..half], shuffled[half], shuffled[(half + 1)..]);
            c.RunFor(c.Random.NextInRange(0, 3 * c.Options.ElectionTimeout));
            for (var i = 0; i < 5; i++)
            {
                c.One($"bridge{round}", nodes / 2 + 1, retry: true);
            }

            var leader = c.Hosts.Where(h => h.IsLeader).MaxBy(h => h.Term)!;
            var term = leader.Term;
            c.RunFor(10 * c.Options.ElectionTimeout);
            var later = c.Hosts.Where(h => h.IsLeader).MaxBy(h => h.Term);
            Assert.True(later is not null && later.Term - term <= 1, $"terms kept rising under a bridge partition: {term} -> {later?.Term}");
            c.HealNetwork();
        }
    });
}
