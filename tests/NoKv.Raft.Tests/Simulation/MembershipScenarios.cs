using NoKv.Raft.Messages;
using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation;

/// <summary>
/// One-at-a-time membership changes (learners, promotion, removal, removing the leader) while the
/// network is partitioned, nodes crash and clients keep writing.
/// </summary>
public sealed class MembershipScenarios
{
    private const int CiSeeds = SeedSet.CiCount;

    private static SimOptions Options(int nodes) => new() { Nodes = nodes, MaxDiskLatency = 2 };

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void AddLearnerPromoteAndRemoveWhilePartitioned(int nodes) => SimulationRunner.Run(
        nameof(AddLearnerPromoteAndRemoveWhilePartitioned),
        Options(nodes),
        CiSeeds,
        c =>
        {
            var founders = c.Ids.ToArray();
            for (var i = 0; i < 10; i++)
            {
                c.One($"k{i}", nodes, retry: true);
            }

            // A learner joins while a follower is cut off; it catches up from the log but never votes.
            var learner = (ulong)nodes + 1;
            c.AddServer(learner);
            var leader = c.CheckOneLeader(founders);
            var cut = founders.First(id => id != leader);
            c.Isolate(cut);
            c.ChangeMembership(new ConfChange(ConfChangeType.AddLearnerNode, learner));
            var index = c.One("after-learner", nodes / 2 + 1, retry: true);
            Assert.True(c.RunUntil(() => c[learner].StateMachine.AppliedIndex >= index, 50 * c.Options.ElectionTimeout), "learner did not catch up");
            Assert.Contains(learner, c[learner].AppliedConfState.Learners);

            // Promote it while the cut follower is still away, then bring that one back.
            c.ChangeMembership(new ConfChange(ConfChangeType.AddNode, learner));
            c.Rejoin(cut);
            c.One("after-promote", nodes + 1, retry: true);

            // Remove a founder that is partitioned away; the remaining voters keep committing.
            var leader2 = c.CheckOneLeader();
            var removed = founders.First(id => id != leader2);
            c.Isolate(removed);
            c.ChangeMembership(new ConfChange(ConfChangeType.RemoveNode, removed));
            c.Decommission(removed);
            var voters = c.Ids.Where(id => id != removed).ToArray();
            c.One("after-remove", voters.Length / 2 + 1, retry: true);

            // With the removed node gone for good, a majority of the new configuration must suffice.
            var minority = voters.Where(id => id != c.CheckOneLeader(voters)).Take((voters.Length - 1) / 2).ToArray();
            foreach (var id in minority)
            {
                c.Isolate(id);
            }

            c.One("new-majority", voters.Length - minority.Length, retry: true);
            foreach (var id in minority)
            {
                c.Rejoin(id);
            }

            c.One("end", voters.Length, retry: true);
        });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void RemoveTheLeader(int nodes) => SimulationRunner.Run(nameof(RemoveTheLeader), Options(nodes), CiSeeds, c =>
    {
        var all = c.Ids.ToArray();
        c.One("start", nodes, retry: true);
        var leader = c.CheckOneLeader();
        c.ChangeMembership(new ConfChange(ConfChangeType.RemoveNode, leader));
        c.Decommission(leader);
        var rest = all.Where(id => id != leader).ToArray();
        var next = c.CheckOneLeader(rest);
        Assert.NotEqual(leader, next);
        c.One("after", rest.Length, retry: true);

        // A new node replaces it.
        var replacement = (ulong)nodes + 1;
        c.AddServer(replacement);
        c.ChangeMembership(new ConfChange(ConfChangeType.AddNode, replacement));
        c.One("end", nodes, retry: true);
    });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void MembershipChurnUnderFaults(int nodes) =>
        MembershipChurn(nameof(MembershipChurnUnderFaults), Options(nodes) with { Faults = LinkFaults.Unreliable });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void MembershipChurnWithSnapshots(int nodes) => MembershipChurn(
        nameof(MembershipChurnWithSnapshots),
        Options(nodes) with { Faults = LinkFaults.Unreliable, SnapshotThreshold = 25, DurableStateMachine = false });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void MembershipChurnWithSnapshotsDurableHost(int nodes) => MembershipChurn(
        nameof(MembershipChurnWithSnapshotsDurableHost),
        Options(nodes) with { Faults = LinkFaults.Unreliable, SnapshotThreshold = 25, DurableStateMachine = true });

    // Pre-vote stays on here: with a voter crashed, progress needs the other two voters, and one of them
    // may have been cut off while the membership changed, so it does not yet know the other is a voter.
    // Without pre-vote its term races ahead by its own failed elections, it never answers the real
    // candidate (not a member in its eyes) and lower-term vote requests are ignored, so no leader emerges
    // until the crashed voter returns (seen with seed 40259): a liveness limit of Raft, not a library bug.
    private static void MembershipChurn(string name, SimOptions options) => SimulationRunner.Run(
        name,
        options with { PreVote = true },
        CiSeeds,
        c =>
        {
            var nodes = options.Nodes;
            // Rotate the whole membership: add a learner, promote it, remove the oldest voter; each
            // change under a random partition or crash, with clients writing throughout.
            var voters = new List<ulong>(c.Ids);
            var nextId = (ulong)nodes + 1;
            c.StartClients(2, 15);
            for (var round = 0; round < 4; round++)
            {
                var newcomer = nextId++;
                c.AddServer(newcomer);
                c.ChangeMembership(new ConfChange(ConfChangeType.AddLearnerNode, newcomer));

                // Fault: one voter crashes or is cut off while the learner is promoted.
                var victim = c.Random.Pick(voters);
                var crashed = c.Random.Chance(0.5);
                if (crashed)
                {
                    c.Crash(victim);
                }
                else
                {
                    c.Isolate(victim);
                }

                c.RunFor(c.Random.NextInRange(0, 3 * c.Options.ElectionTimeout));
                c.ChangeMembership(new ConfChange(ConfChangeType.AddNode, newcomer));
                voters.Add(newcomer);
                if (crashed)
                {
                    c.Restart(victim);
                }
                else
                {
                    c.Rejoin(victim);
                }

                // Remove the oldest voter (possibly the leader).
                var oldest = voters[0];
                c.ChangeMembership(new ConfChange(ConfChangeType.RemoveNode, oldest));
                voters.RemoveAt(0);
                c.Decommission(oldest);
                c.One($"round{round}", voters.Count / 2 + 1, retry: true);
            }

            c.StopClients();
            c.HealNetwork();
            c.One("end", voters.Count, retry: true);
            Assert.Equal(voters.OrderBy(id => id), c.LatestConfState().Voters.OrderBy(id => id));
        });
}
