using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation;

/// <summary>
/// Hosts that send a leader's replication messages while the leader's own write is in flight
/// (<see cref="Ready.MessagesBeforePersist"/>, as NoKV's replica grain does), under long disk writes and
/// crashes that lose writes in flight: every safety checker must stay quiet. The contrast is
/// <c>BrokenHostTests</c>, where sending every message early (follower acknowledgements and votes too) is caught.
/// </summary>
public sealed class EarlyLeaderSendScenarios
{
    private const int CiSeeds = SeedSet.CiCount;

    private static SimOptions Options(int nodes) => new() { Nodes = nodes, MaxDiskLatency = 20, LeaderSendsBeforePersist = true };

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void CrashesDuringOverlappedLeaderWritesLoseNothingAcknowledged(int nodes)
    {
        long early = 0;
        SimulationRunner.Run(nameof(CrashesDuringOverlappedLeaderWritesLoseNothingAcknowledged), Options(nodes), CiSeeds, c =>
        {
            c.StartClients(3, 10);
            for (var i = 0; i < 20; i++)
            {
                // Crash the leader half of the time: its write is the one that now overlaps the followers'.
                var leader = c.Hosts.FirstOrDefault(h => h.IsLeader)?.Id ?? 0;
                var id = leader != 0 && c.Random.Chance(0.5) ? leader : c.Random.Pick(c.Ids.ToArray());
                if (c[id].IsUp)
                {
                    c.Crash(id);
                }

                c.RunFor(c.Random.NextInRange(5, 60));
                c.Restart(id);
                c.RunFor(c.Options.ElectionTimeout);
            }

            c.StopClients();
            early += c.Hosts.Sum(h => h.MessagesSentBeforePersist);
        });

        // The overlap must actually have happened, or this test checks nothing.
        Assert.True(early > 0, "no message was sent before its leader's write completed");
    }
}
