using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation;

/// <summary>Leader election (after the classic lab's part 2A), run in the deterministic simulation.</summary>
public sealed class ElectionScenarios
{
    private const int CiSeeds = 8;

    private static SimOptions Options(int nodes) => new() { Nodes = nodes };

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
}
