using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation.Harness;

/// <summary>
/// Mutation test of the harness: a host that sends before persisting (so a crash forgets votes and
/// entries it already acknowledged) must be caught by a safety checker (not merely by a liveness timeout) within a fixed set of seeds.
/// If this test fails, the checkers have gone blind.
/// </summary>
public sealed class BrokenHostTests
{
    [Fact]
    public void CheckersCatchAHostThatSendsBeforePersisting()
    {
        var caught = new List<string>();
        for (ulong seed = 1; seed <= 10; seed++)
        {
            var options = new SimOptions { Nodes = 3, Seed = seed, MaxDiskLatency = 20, BrokenHostSendsBeforePersist = true };
            try
            {
                var cluster = new SimCluster(options);
                cluster.StartClients(3, 10);
                for (var i = 0; i < 20; i++)
                {
                    var id = cluster.Random.Pick(cluster.Ids.ToArray());
                    if (cluster[id].IsUp)
                    {
                        cluster.Crash(id);
                    }

                    cluster.RunFor(cluster.Random.NextInRange(5, 60));
                    cluster.Restart(id);
                    cluster.RunFor(cluster.Options.ElectionTimeout);
                }

                cluster.StopClients();
                cluster.HealAndCheckLiveness();
            }
            catch (SafetyViolationException ex) when (!ex.Invariant.StartsWith("liveness", StringComparison.Ordinal))
            {
                caught.Add($"seed {seed}: {ex.Invariant}");
                break;
            }
            catch (SafetyViolationException)
            {
                // A stuck cluster is a symptom too, but the point here is a safety checker firing.
            }
        }

        Assert.NotEmpty(caught);
    }

    [Fact]
    public void ReadCheckerCatchesAHostThatServesLocalReads()
    {
        var cluster = new SimCluster(new SimOptions { Nodes = 3, Seed = 1, BrokenHostServesLocalReads = true });
        cluster.One("x", 3, retry: true);
        var old = cluster.CheckOneLeader();
        cluster.Isolate(old);
        cluster.One("x", 2, retry: true);

        // The isolated old leader still holds the first value: a local read there is stale.
        var ex = Assert.Throws<SafetyViolationException>(() => cluster[old].Read("x", ReadOnlyOption.Safe));
        Assert.Equal("linearizable read", ex.Invariant);
    }
}
