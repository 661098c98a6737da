using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using Xunit;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// Bounded-staleness reads served by a leader honour the bound: a leader knows its state is current only as of the
/// last time a quorum answered it (until check-quorum deposes it, a cut-off leader still believes it leads).
/// </summary>
public sealed class StaleReadTests
{
    [Fact]
    public void A_leader_cut_off_from_its_quorum_for_longer_than_the_bound_refuses_a_bounded_read()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        int answered = group.Sent.Count;
        group.Tick(2);
        answered = group.AnswerAll(answered);

        Assert.Equal(NoKvErrorCode.Ok, group.Run(group.Core.GetAsync(Read(TimeSpan.FromMilliseconds(500)))).Code);

        // Both followers fall silent; the leader keeps its role for most of an election timeout.
        group.Tick(8);
        Assert.True(group.Core.IsLeader);

        Assert.Equal(NoKvErrorCode.StaleReadUnavailable, group.Run(group.Core.GetAsync(Read(TimeSpan.FromMilliseconds(500)))).Code);
        Assert.Equal(NoKvErrorCode.Ok, group.Run(group.Core.GetAsync(Read(TimeSpan.FromSeconds(5)))).Code);

        // One follower answers again: with the leader that is a quorum, and the bound holds once more.
        group.AnswerAll(answered);
        Assert.True(group.Core.IsLeader);
        Assert.Equal(NoKvErrorCode.Ok, group.Run(group.Core.GetAsync(Read(TimeSpan.FromMilliseconds(500)))).Code);
    }

    private static ReadRequest Read(TimeSpan bound) => new()
    {
        Shard = new ShardId(1), Epoch = 1, Key = Encoding.UTF8.GetBytes("k"), Consistency = ReadConsistency.BoundedStaleness, MaxStaleness = bound,
    };
}
