using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation;

/// <summary>
/// Snapshots and log compaction (after the classic lab's part 2D): hosts snapshot and compact every
/// few entries, so a follower that falls behind can only catch up by an InstallSnapshot transfer,
/// which is chunked (small chunks, padded state) and must survive loss, crashes and leader changes.
/// </summary>
public sealed class SnapshotScenarios
{
    private const int CiSeeds = SeedSet.CiCount;

    private static SimOptions Options(int nodes) => new()
    {
        Nodes = nodes,
        SnapshotThreshold = 9,
        SnapshotChunkSize = 256,
        PayloadPadding = 16,
        MaxDiskLatency = 3,
    };

    private static int Majority(int nodes) => nodes / 2 + 1;

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void SnapshotBasic(int nodes) => SimulationRunner.Run(nameof(SnapshotBasic), Options(nodes), CiSeeds, c =>
    {
        for (var i = 0; i < 40; i++)
        {
            c.One($"k{i % 30}", nodes, retry: true);
        }

        Assert.All(c.Hosts, h =>
        {
            Assert.True(h.SnapshotsTaken > 0, $"node {h.Id} never snapshotted");
            Assert.True(h.Storage.FirstIndex() > 1, $"node {h.Id} never compacted");
        });
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void SnapshotInstall(int nodes) => Install(nameof(SnapshotInstall), Options(nodes), crash: false);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void SnapshotInstallUnreliable(int nodes) => Install(nameof(SnapshotInstallUnreliable), Options(nodes) with { Faults = LinkFaults.Unreliable }, crash: false);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void SnapshotInstallCrash(int nodes) => Install(nameof(SnapshotInstallCrash), Options(nodes), crash: true);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void SnapshotInstallUnreliableCrash(int nodes) => Install(nameof(SnapshotInstallUnreliableCrash), Options(nodes) with { Faults = LinkFaults.Unreliable }, crash: true);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void SnapshotSurvivesRebootOfEveryNode(int nodes) => SimulationRunner.Run(nameof(SnapshotSurvivesRebootOfEveryNode), Options(nodes), CiSeeds, c =>
    {
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 15; i++)
            {
                c.One($"k{i}", nodes, retry: true);
            }

            foreach (var id in c.Ids)
            {
                c.Crash(id);
            }

            foreach (var id in c.Ids)
            {
                c.Restart(id);
            }

            c.One("after", nodes, retry: true);
        }
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void SnapshotTransferInterruptedByLeaderChanges(int nodes) => SimulationRunner.Run(
        nameof(SnapshotTransferInterruptedByLeaderChanges),
        Options(nodes) with { SnapshotChunkSize = 64, PayloadPadding = 64 },
        CiSeeds,
        c =>
        {
            // A lagging node needs a many-chunk snapshot; leaders keep changing (and the receiver
            // crashes) mid-transfer.
            var leader = c.CheckOneLeader();
            var victim = c.Ids.First(id => id != leader);
            c.Isolate(victim);
            for (var i = 0; i < 40; i++)
            {
                c.One($"big{i}", Majority(nodes), retry: true);
            }

            c.Rejoin(victim);
            for (var round = 0; round < 4; round++)
            {
                c.RunFor(c.Random.NextInRange(5, 40));

                // The receiving side crashes mid-transfer too: its partial snapshot is lost with it.
                if (round == 1)
                {
                    c.Reboot(victim);
                    c.RunFor(c.Random.NextInRange(5, 40));
                }

                var current = c.CheckOneLeader();
                if (current != victim)
                {
                    c.Reboot(current);
                }
            }

            c.One("end", nodes, retry: true);
            Assert.True(c[victim].SnapshotsInstalled > 0, $"victim {victim} caught up without a snapshot");
        });

    private static void Install(string name, SimOptions options, bool crash) => SimulationRunner.Run(name, options, CiSeeds, c =>
    {
        var nodes = options.Nodes;
        var all = c.Ids.ToArray();
        c.One("start", nodes, retry: true);
        for (var round = 0; round < 6; round++)
        {
            var leader = c.CheckOneLeader();
            var victim = round % 2 == 0 ? all.First(id => id != leader) : leader;
            if (crash)
            {
                c.Crash(victim);
            }
            else
            {
                c.Isolate(victim);
            }

            // Enough entries that the others snapshot and compact past everything the victim has.
            for (var i = 0; i < 11; i++)
            {
                c.One($"k{(round * 11) + i}", Majority(nodes), retry: true);
            }

            if (crash)
            {
                c.Restart(victim);
            }
            else
            {
                c.Rejoin(victim);
            }

            // Entries committed while the victim was away reach it (by snapshot).
            c.One("sync", nodes, retry: true);
        }

        Assert.Contains(c.Hosts, h => h.SnapshotsInstalled > 0);
    });
}
