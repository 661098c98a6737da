using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation;

/// <summary>
/// Persistence and crash recovery (after the classic lab's part 2C): crashes lose volatile state and
/// any write still in flight (random disk latency), restarts recover from durable storage only.
/// </summary>
public sealed class PersistenceScenarios
{
    private const int CiSeeds = SeedSet.CiCount;

    private static SimOptions Options(int nodes) => new() { Nodes = nodes, MaxDiskLatency = 5 };

    private static int Majority(int nodes) => nodes / 2 + 1;

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void PersistenceAcrossCrashesOfEveryNode(int nodes) => SimulationRunner.Run(nameof(PersistenceAcrossCrashesOfEveryNode), Options(nodes), CiSeeds, c =>
    {
        c.One("a", nodes, retry: true);

        // Every node crashes and restarts.
        foreach (var id in c.Ids)
        {
            c.Crash(id);
        }

        foreach (var id in c.Ids)
        {
            c.Restart(id);
        }

        c.One("b", nodes, retry: true);

        // The leader reboots.
        c.Reboot(c.CheckOneLeader());
        c.One("c", nodes, retry: true);

        // The leader crashes and stays down while the rest commit; then comes back and catches up.
        var leader2 = c.CheckOneLeader();
        c.Crash(leader2);
        c.One("d", nodes - 1, retry: true);
        c.Restart(leader2);
        c.One("e", nodes, retry: true);

        // A follower crashes; the rest commit; it returns.
        var leader3 = c.CheckOneLeader();
        var follower = c.Ids.First(id => id != leader3);
        c.Crash(follower);
        c.One("f", nodes - 1, retry: true);
        c.Restart(follower);
        c.One("g", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void RepeatedCrashesAndPartitions(int nodes) => SimulationRunner.Run(nameof(RepeatedCrashesAndPartitions), Options(nodes), CiSeeds, c =>
    {
        var all = c.Ids.ToArray();
        for (var round = 0; round < 5; round++)
        {
            c.One($"r{round}", nodes, retry: true);

            // A minority of followers is cut off while the rest commit.
            var leader = c.CheckOneLeader();
            var minority = all.Where(id => id != leader).OrderBy(_ => c.Random.NextUInt64()).Take(nodes - Majority(nodes)).ToArray();
            foreach (var id in minority)
            {
                c.Isolate(id);
            }

            c.One($"r{round}", Majority(nodes), retry: true);

            // Now the leader and the rest of the majority but one go away; the minority comes back
            // after crashing (volatile state lost) and must rebuild a majority with the one left.
            var keep = all.Except(minority).Where(id => id != leader).First();
            var away = all.Except(minority).Where(id => id != keep).ToArray();
            foreach (var id in away)
            {
                c.Isolate(id);
            }

            foreach (var id in minority)
            {
                c.Reboot(id);
                c.Rejoin(id);
            }

            foreach (var id in away)
            {
                c.Network.Connect(id, keep);
            }

            c.One($"r{round}", Majority(nodes), retry: true);
            foreach (var id in away)
            {
                c.Rejoin(id);
            }
        }

        c.One("end", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void PartitionedLeaderAndFollowerCrash(int nodes) => SimulationRunner.Run(nameof(PartitionedLeaderAndFollowerCrash), Options(nodes), CiSeeds, c =>
    {
        c.One("a", nodes, retry: true);
        var leader = c.CheckOneLeader();

        // A minority is cut off and falls behind.
        var behind = c.Ids.Where(id => id != leader).Take(nodes - Majority(nodes)).ToArray();
        foreach (var id in behind)
        {
            c.Isolate(id);
        }

        c.One("b", Majority(nodes), retry: true);

        // The leader and one other member of the up-to-date majority crash; the stale minority returns.
        var upToDate = c.Ids.Except(behind).ToArray();
        var second = upToDate.First(id => id != leader);
        c.Crash(leader);
        c.Crash(second);
        foreach (var id in behind)
        {
            c.Rejoin(id);
        }

        // The leader restarts: a majority is up again, and only nodes holding the committed log can lead.
        c.Restart(leader);
        c.Rejoin(leader);
        c.One("c", Majority(nodes), retry: true);
        c.Restart(second);
        c.Rejoin(second);
        c.One("d", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void Figure8(int nodes) => SimulationRunner.Run(nameof(Figure8), Options(nodes), CiSeeds, c =>
    {
        // Leaders crash right after appending, so entries of old terms are replicated to some nodes
        // and later either committed by a leader of a newer term or overwritten. An entry from an
        // older term must never be considered committed by counting replicas alone (Raft paper, fig. 8).
        c.One("start", 1, retry: true);
        var up = nodes;
        for (var i = 0; i < 100; i++)
        {
            ulong leader = 0;
            foreach (var host in c.Hosts)
            {
                if (host.Propose(c.NewCommand($"f{i % 5}")) is { IsAccepted: true })
                {
                    leader = host.Id;
                }
            }

            c.RunFor(c.Random.Chance(0.1)
                ? c.Random.NextInRange(0, c.Options.ElectionTimeout / 2)
                : c.Random.NextInRange(0, 13));

            if (leader != 0)
            {
                c.Crash(leader);
                up--;
            }

            if (up < Majority(nodes))
            {
                var id = c.Random.Pick(c.Ids.ToArray());
                if (!c[id].IsUp)
                {
                    c.Restart(id);
                    up++;
                }
            }
        }

        foreach (var id in c.Ids)
        {
            if (!c[id].IsUp)
            {
                c.Restart(id);
            }
        }

        c.One("end", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void Figure8Unreliable(int nodes) => SimulationRunner.Run(
        nameof(Figure8Unreliable),
        Options(nodes) with { Faults = LinkFaults.Unreliable },
        CiSeeds,
        c =>
        {
            c.One("start", 1, retry: true);
            var all = c.Ids.ToArray();
            var connected = all.ToHashSet();
            for (var i = 0; i < 200; i++)
            {
                if (i == 50)
                {
                    // From here on, long delays reorder messages heavily.
                    c.Network.DefaultFaults = LinkFaults.Unreliable with { LongDelayRate = 0.1, LongDelay = 1000 };
                }

                ulong leader = 0;
                foreach (var id in all)
                {
                    if (c.Propose(id, c.NewCommand($"u{i % 5}")) is { IsAccepted: true } && connected.Contains(id))
                    {
                        leader = id;
                    }
                }

                c.RunFor(c.Random.Chance(0.1)
                    ? c.Random.NextInRange(0, c.Options.ElectionTimeout / 2)
                    : c.Random.NextInRange(0, 13));

                if (leader != 0 && c.Random.Chance(0.5))
                {
                    c.Isolate(leader);
                    connected.Remove(leader);
                }

                if (connected.Count < Majority(nodes))
                {
                    var id = c.Random.Pick(all);
                    if (connected.Add(id))
                    {
                        foreach (var other in connected)
                        {
                            c.Network.Connect(id, other);
                        }
                    }
                }
            }

            c.HealNetwork();
            c.One("end", nodes, retry: true);
        });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void ReliableChurn(int nodes) => Churn(nameof(ReliableChurn), Options(nodes));

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void UnreliableChurn(int nodes) => Churn(nameof(UnreliableChurn), Options(nodes) with { Faults = LinkFaults.Unreliable });

    private static void Churn(string name, SimOptions options) => SimulationRunner.Run(name, options, CiSeeds, c =>
    {
        // Clients write continuously while nodes are disconnected, crashed and restarted at random.
        var all = c.Ids.ToArray();
        c.StartClients(3, 10);
        for (var i = 0; i < 20; i++)
        {
            if (c.Random.Chance(0.2))
            {
                c.Isolate(c.Random.Pick(all));
            }

            if (c.Random.Chance(0.5))
            {
                var id = c.Random.Pick(all);
                if (!c[id].IsUp)
                {
                    c.Restart(id);
                }

                c.Rejoin(id);
            }

            if (c.Random.Chance(0.2))
            {
                var id = c.Random.Pick(all);
                if (c[id].IsUp)
                {
                    c.Crash(id);
                }
            }

            if (c.Random.Chance(0.15))
            {
                // A process pause (GC/VM): no ticks, no input; missed ticks caught up or lost.
                c[c.Random.Pick(all)].Pause(c.Random.NextInRange(1, 3 * c.Options.ElectionTimeout), catchUpTicks: c.Random.Chance(0.5));
            }

            if (c.Random.Chance(0.2))
            {
                // One direction of one link turns very lossy and slow (asymmetric degradation).
                c.Network.SetLinkFaults(c.Random.Pick(all), c.Random.Pick(all), new LinkFaults(0.5, 0.1, 5, 60));
            }

            c.RunFor(c.Options.ElectionTimeout * 7 / 10);
        }

        c.RunFor(c.Options.ElectionTimeout);
        c.HealNetwork();
        foreach (var id in all)
        {
            if (!c[id].IsUp)
            {
                c.Restart(id);
            }
        }

        c.RunFor(2 * c.Options.ElectionTimeout);
        c.StopClients();
        c.One("end", options.Nodes, retry: true);
        Assert.True(c.Ledger.Acknowledged > 0, "churn acknowledged no writes at all");
    });
}
