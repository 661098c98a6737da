using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Tests.Core;
using Xunit;

namespace NoKv.Replica.Tests.Controller;

/// <summary>
/// The controller leader serves timestamps from a committed window only under its lease (docs/controller.md): a
/// leader cut off from its followers still believes it leads for most of an election timeout, and must stop handing
/// out timestamps before any other peer could be elected; a leader that starts a transfer stops at once.
/// </summary>
public sealed class TimestampLeaseTests
{
    [Fact]
    public void Timestamps_come_from_memory_once_a_window_is_committed_and_keep_increasing()
    {
        using var group = new ScriptedGroup(shard: SystemShards.Controller);
        group.ElectSelf();

        var first = Serve(group, 1);
        Assert.Equal(NoKvErrorCode.Ok, first.Code);
        int sent = group.Sent.Count;
        long last = first.Batch.Last;
        for (int i = 0; i < 20; i++)
        {
            var next = group.Run(group.Core.TimestampsAsync(5));
            Assert.Equal(NoKvErrorCode.Ok, next.Code);
            Assert.Equal(5, next.Batch.Count);
            Assert.True(next.Batch.First > last, $"batch {next.Batch} is not above {last}");
            last = next.Batch.Last;
        }

        // No proposal went out for those: the window served them.
        Assert.DoesNotContain(group.Sent.Skip(sent), m => m.Type == MessageType.Append && m.Entries.Length > 0);
    }

    [Fact]
    public void A_leader_cut_off_from_its_followers_stops_serving_before_anyone_else_could_be_elected()
    {
        using var group = new ScriptedGroup(shard: SystemShards.Controller);
        group.ElectSelf();
        Assert.Equal(NoKvErrorCode.Ok, Serve(group, 1).Code);

        // The followers fall silent. The lease (0.75 x the 1 s election timeout from the window's proposal) runs out
        // while the core still leads; an election elsewhere is possible only after a full election timeout.
        group.Tick(8);
        Assert.True(group.Core.IsLeader);
        var waiting = group.Core.TimestampsAsync(1);
        group.Settle();
        Assert.False(waiting.IsCompleted, "a leader without a quorum's recent acknowledgement served a timestamp from memory");

        // A quorum answers again: the renewed window is served, above everything before.
        group.AnswerAll(0);
        var renewed = group.Run(waiting);
        Assert.Equal(NoKvErrorCode.Ok, renewed.Code);
    }

    [Fact]
    public void A_leader_whose_process_stopped_past_its_lease_serves_nothing_from_memory_when_it_wakes()
    {
        using var group = new ScriptedGroup(shard: SystemShards.Controller);
        group.ElectSelf();
        var before = Serve(group, 1);
        Assert.Equal(NoKvErrorCode.Ok, before.Code);

        // Stopped for 1.5 s (SIGSTOP, a long GC pause): no tick ran, so Raft's logical clock lost the pause and
        // check-quorum has not yet noticed anything. The followers may have elected someone else meanwhile; only
        // the wall-clock lease knows.
        group.NowMs += 1_500;
        Assert.True(group.Core.IsLeader);
        var waiting = group.Core.TimestampsAsync(1);
        group.Settle();
        Assert.False(waiting.IsCompleted, "a leader woken after its lease ran out served a timestamp from memory");

        // Only a window committed after the pause (a quorum still follows it) lets it serve again.
        group.AnswerAll(0);
        var after = group.Run(waiting);
        Assert.Equal(NoKvErrorCode.Ok, after.Code);
        Assert.True(after.Batch.First > before.Batch.Last);
    }

    [Fact]
    public void A_leader_transferring_leadership_refuses_and_waits_out_two_election_timeouts_after_an_abandoned_transfer()
    {
        using var group = new ScriptedGroup(shard: SystemShards.Controller);
        group.ElectSelf();
        var before = Serve(group, 1);
        Assert.Equal(NoKvErrorCode.Ok, before.Code);

        // Peer B is silent, so the transfer (TimeoutNow once it is caught up) never completes.
        // The transfer first commits B as the preferred leader (C answers), then hands over.
        group.Down.Add(ScriptedGroup.PeerB);
        int sent = group.Sent.Count;
        var transfer = group.Core.TransferLeadershipAsync(ScriptedGroup.PeerB);
        group.Settle();
        group.AnswerAll(sent);
        Assert.Equal(NoKvErrorCode.Ok, group.Run(transfer).Code);
        Assert.Equal(NoKvErrorCode.NotLeader, group.Run(group.Core.TimestampsAsync(1)).Code);

        // Raft abandons the transfer after an election timeout (C keeps answering, so the core stays leader).
        int answered = group.Sent.Count;
        for (int i = 0; i < 12; i++)
        {
            group.Tick();
            answered = group.AnswerAll(answered);
        }

        Assert.True(group.Core.IsLeader);
        Assert.Equal(NoKvErrorCode.NotLeader, group.Run(group.Core.TimestampsAsync(1)).Code);

        // Two election timeouts after the transfer was last seen, a fresh window is committed and served.
        TimestampResponse after = group.Run(group.Core.TimestampsAsync(1));
        for (int i = 0; i < 25 && after.Code != NoKvErrorCode.Ok; i++)
        {
            group.Tick();
            answered = group.AnswerAll(answered);
            var pending = group.Core.TimestampsAsync(1);
            group.Settle();
            answered = group.AnswerAll(answered);
            after = group.Run(pending);
        }

        Assert.Equal(NoKvErrorCode.Ok, after.Code);
        Assert.True(after.Batch.First > before.Batch.Last);
    }

    [Fact]
    public void Only_the_controller_group_serves_timestamps()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        Assert.Equal(NoKvErrorCode.WrongShard, group.Run(group.Core.TimestampsAsync(1)).Code);
        Assert.Equal(NoKvErrorCode.InvalidRange, group.Run(group.Core.TimestampsAsync(0)).Code);
    }

    /// <summary>A first request: the window's proposal goes out, the followers acknowledge it, the batch comes back.</summary>
    private static TimestampResponse Serve(ScriptedGroup group, int count)
    {
        var pending = group.Core.TimestampsAsync(count);
        group.Settle();
        group.AnswerAll(0);
        return group.Run(pending);
    }
}
