using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// Defects of the replica's Ready loop found by reading (issue 11), each pinned by a test that failed before its fix.
/// </summary>
public sealed class ReadyLoopTests
{
    [Fact]
    public void A_follower_never_acknowledges_a_snapshot_it_could_not_install()
    {
        using var group = new ScriptedGroup();
        ulong leader = group.PeerIdOf(ScriptedGroup.PeerB);
        ulong self = group.PeerIdOf(ScriptedGroup.Self);
        var conf = new ConfState(self, leader, group.PeerIdOf(ScriptedGroup.PeerC));

        // A snapshot the follower's state machine cannot ingest (as after a crash mid-install, or a bad disk):
        // the Raft layer accepts it, the install fails.
        byte[] data = Encoding.UTF8.GetBytes("not a NoKV snapshot image");
        group.Deliver(new Message
        {
            Type = MessageType.Snapshot, From = leader, To = self, Term = 3,
            Snapshot = new Snapshot(new SnapshotMetadata(50, 2, conf), data), ChunkOffset = 0, SnapshotSize = (ulong)data.Length,
        });

        Assert.NotNull(group.Failure);
        Assert.IsType<InvalidDataException>(group.Failure);
        Assert.DoesNotContain(group.Sent, m => m.To == leader && !m.Reject && m.Index >= 50
            && m.Type is MessageType.AppendResponse or MessageType.SnapshotResponse);
    }

    [Fact]
    public void A_leader_steps_acknowledgements_that_queued_during_a_stall_before_the_ticks_that_did()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        ulong self = group.PeerIdOf(ScriptedGroup.Self);
        ulong b = group.PeerIdOf(ScriptedGroup.PeerB);
        ulong c = group.PeerIdOf(ScriptedGroup.PeerC);

        // Run the leader to a check-quorum boundary with prompt acknowledgements: from here on the followers count
        // as inactive until they answer again.
        int answered = group.Sent.Count;
        for (int i = 0; i < group.Options.ElectionTicks; i++)
        {
            group.Tick();
            if (i < group.Options.ElectionTicks - 1)
            {
                answered = group.AnswerAll(answered);
            }
        }

        answered = group.Sent.Count;

        Assert.True(group.Core.IsLeader);

        // A pump stalls (its engine write takes a whole election timeout): the followers' answers and the ticks of
        // that time arrive while it runs, and wait in the inbox together.
        bool injected = false;
        group.OnSend = m =>
        {
            if (injected || m.Type != MessageType.Append)
            {
                return;
            }

            injected = true;
            ulong term = group.Core.Term;
            _ = group.Core.DeliverAsync(ScriptedGroup.PeerB, [new Message { Type = MessageType.HeartbeatResponse, From = b, To = self, Term = term }]);
            _ = group.Core.DeliverAsync(ScriptedGroup.PeerC, [new Message { Type = MessageType.HeartbeatResponse, From = c, To = self, Term = term }]);
            for (int t = 0; t < group.Options.ElectionTicks; t++)
            {
                _ = group.Core.TickAsync();
            }
        };

        var write = group.Core.WriteAsync(Put("k", "v"));
        group.Settle();
        Assert.True(injected);
        Assert.True(group.Core.IsLeader, "the leader stepped down by check-quorum although its quorum's answers were in its inbox");
        group.AnswerAll(answered);
        Assert.Equal(NoKvErrorCode.Ok, group.Run(write).Code);
    }

    [Fact]
    public void What_Raft_reports_as_a_broken_invariant_fails_the_replica_instead_of_being_ignored()
    {
        using var group = new ScriptedGroup();
        ulong leader = group.PeerIdOf(ScriptedGroup.PeerB);
        ulong self = group.PeerIdOf(ScriptedGroup.Self);

        // Step reports a state it cannot continue from with InvalidOperationException (here: a snapshot larger than
        // one snapshot may be). Only ArgumentException means bad input that changes nothing; anything else must stop
        // the replica (it reopens from disk) rather than let it run on past a violated invariant.
        var conf = new ConfState(self, leader, group.PeerIdOf(ScriptedGroup.PeerC));
        group.Deliver(new Message
        {
            Type = MessageType.Snapshot, From = leader, To = self, Term = 1,
            Snapshot = new Snapshot(new SnapshotMetadata(50, 1, conf), new byte[16]), ChunkOffset = 0, SnapshotSize = 3UL << 30,
        });

        Assert.IsType<InvalidOperationException>(group.Failure);
        Assert.True(group.Core.HasFailed);
        var refused = group.Run(group.Core.WriteAsync(Put("k", "v")));
        Assert.Equal(NoKvErrorCode.StoreUnavailable, refused.Code);
    }

    [Fact]
    public void Bad_input_from_the_wire_is_ignored_and_changes_nothing()
    {
        using var group = new ScriptedGroup();
        ulong self = group.PeerIdOf(ScriptedGroup.Self);

        // A local-only message type must never come from a peer; Step refuses it as bad input.
        group.Deliver(new Message { Type = MessageType.Hup, From = group.PeerIdOf(ScriptedGroup.PeerB), To = self, Term = 9 });

        Assert.Null(group.Failure);
        Assert.Equal(0ul, group.Core.Term);
    }

    [Fact]
    public void A_leader_stops_streaming_to_a_peer_the_transport_cannot_reach()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        ulong c = group.PeerIdOf(ScriptedGroup.PeerC);

        // C answered so far, so the leader streams to it (Replicate). Now C's store goes down.
        group.Down.Add(ScriptedGroup.PeerC);
        int answered = group.Sent.Count;
        for (int i = 0; i < 20; i++)
        {
            var write = group.Core.WriteAsync(Put("k" + i, "v"));
            group.Settle();
            answered = group.AnswerAll(answered);
            Assert.Equal(NoKvErrorCode.Ok, group.Run(write).Code);
        }

        // Reported unreachable at the first refused send, C is probed (at most one append in flight), not streamed
        // one append per write.
        int attempts = group.Refused.Count(m => m.To == c && m.Type == MessageType.Append);
        Assert.InRange(attempts, 1, 2);
        Assert.True(group.Core.IsLeader);
    }

    private static WriteRequest Put(string key, string value) => new()
    {
        Shard = new Abstractions.Sharding.ShardId(1),
        Epoch = 1,
        Kind = WriteKind.Put,
        Key = Encoding.UTF8.GetBytes(key),
        Value = Encoding.UTF8.GetBytes(value),
        Session = new ClientSession(Guid.Empty, 0),
    };
}
