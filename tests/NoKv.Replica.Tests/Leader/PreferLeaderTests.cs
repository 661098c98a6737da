using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Layout;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Tests.Core;
using NoKv.Storage;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Replica.Tests.Leader;

/// <summary>
/// The preferred leader is replicated state (CommandType 13): a committed <see cref="PreferLeaderCommand"/> reorders the
/// descriptor's voters, survives restarts and snapshots, and the replica's leader balance then pushes leadership to the
/// new preferred voter instead of handing it back to the old one.
/// </summary>
public sealed class PreferLeaderTests : IDisposable
{
    private static readonly PeerDescriptor A = new(11, new StoreId(1), PeerRole.Voter);
    private static readonly PeerDescriptor B = new(12, new StoreId(2), PeerRole.Voter);
    private static readonly PeerDescriptor C = new(13, new StoreId(3), PeerRole.Voter);
    private static readonly PeerDescriptor L = new(14, new StoreId(4), PeerRole.Learner);
    private readonly Database _db = Database.Open("/store", new StorageOptions { FileSystem = new MemFileSystem(), UseMappedReads = false });
    private readonly ShardStateMachine _sm;
    private ulong _index;

    public PreferLeaderTests()
    {
        _sm = new ShardStateMachine(_db, new ReplicaState(A.PeerId, new ShardDescriptor(new ShardId(1), KeyRange.All, 3, 5, [A, B, C, L]))) { ExportSnapshotsInline = true };
    }

    [Fact]
    public void The_named_voter_moves_to_the_front_the_others_keep_their_order_and_the_conf_version_grows()
    {
        var outcome = Apply(new PreferLeaderCommand(C.PeerId));

        Assert.Equal(NoKvErrorCode.Ok, outcome.Code);
        Assert.True(outcome.Succeeded);
        Assert.Equal([C, A, B, L], _sm.Descriptor.Peers);
        Assert.Equal([C.Store, A.Store, B.Store], _sm.Descriptor.Replicas);
        Assert.Equal(6, _sm.Descriptor.ConfVersion);
        Assert.Equal(3, _sm.Descriptor.Epoch);

        // Persisted with the applied index: a replica opened from the engine has the new order.
        var reopened = new ShardStateMachine(_db, new ReplicaState(A.PeerId, new ShardDescriptor(new ShardId(1), KeyRange.All, 1, 1, [A])));
        var state = ReplicaStateCodec.Decode(_db.Get(KeySpace.ReplicaStateKey(new ShardId(1)))!);
        Assert.Equal([C, A, B, L], state.Descriptor.Peers);
        Assert.Equal(_sm.AppliedIndex, reopened.AppliedIndex);
    }

    [Fact]
    public void Preferring_the_first_voter_again_changes_nothing()
    {
        Apply(new PreferLeaderCommand(B.PeerId));
        var before = _sm.Descriptor;

        var outcome = Apply(new PreferLeaderCommand(B.PeerId));

        Assert.Equal(NoKvErrorCode.Ok, outcome.Code);
        Assert.Same(before, _sm.Descriptor);
        Assert.Equal(6, _sm.Descriptor.ConfVersion);
    }

    [Theory]
    [InlineData(14UL)] // a learner cannot lead
    [InlineData(99UL)] // not a peer (removed since the proposal, say)
    public void A_peer_that_is_not_a_voter_is_refused_and_nothing_changes(ulong peer)
    {
        var before = _sm.Descriptor;

        var outcome = Apply(new PreferLeaderCommand(peer));

        Assert.Equal(NoKvErrorCode.InvalidRange, outcome.Code);
        Assert.False(outcome.Succeeded);
        Assert.Contains("not a voter", Assert.IsType<string>(outcome.Result));
        Assert.Same(before, _sm.Descriptor);
    }

    [Fact]
    public async Task A_snapshot_carries_the_preference()
    {
        Apply(new PreferLeaderCommand(B.PeerId));
        var snapshot = _sm.CreateSnapshotForRaft();

        using var other = Database.Open("/other", new StorageOptions { FileSystem = new MemFileSystem(), UseMappedReads = false });
        var follower = new ShardStateMachine(other, new ReplicaState(C.PeerId, new ShardDescriptor(new ShardId(1), KeyRange.All, 3, 5, [A, B, C, L])));
        await follower.InstallSnapshotAsync(snapshot.Data, snapshot.Metadata.Index, snapshot.Metadata.Term);

        Assert.Equal([B, A, C, L], follower.Descriptor.Peers);
        Assert.Equal(6, follower.Descriptor.ConfVersion);
    }

    [Fact]
    public void The_encoding_is_the_documented_one()
    {
        var bytes = new PreferLeaderCommand(0x0102).Encode();

        Assert.Equal("CE010D0201000000000000", Convert.ToHexString(bytes));
        Assert.Equal(0x0102UL, PreferLeaderCommand.Decode(CommandEnvelope.ReadHeader(bytes), bytes).PeerId);
        Assert.Throws<CommandFormatException>(() => PreferLeaderCommand.Decode(CommandEnvelope.ReadHeader(new PreferLeaderCommand(1).Encode()[..^1]), new PreferLeaderCommand(1).Encode()[..^1]));
        var zero = Convert.FromHexString("CE010D0000000000000000");
        Assert.Throws<CommandFormatException>(() => PreferLeaderCommand.Decode(CommandEnvelope.ReadHeader(zero), zero));
    }

    [Fact]
    public void A_transfer_is_committed_as_a_preference_so_the_leader_balance_keeps_pushing_towards_it_after_a_restart()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        ulong b = group.PeerIdOf(ScriptedGroup.PeerB);
        int answered = group.Sent.Count;

        var transfer = group.Core.TransferLeadershipAsync(ScriptedGroup.PeerB);
        group.Settle();
        group.AnswerAll(answered);
        var response = group.Run(transfer);

        Assert.Equal(NoKvErrorCode.Ok, response.Code);
        Assert.Equal(ScriptedGroup.PeerB, group.Core.Descriptor.Replicas[0]);
        Assert.Equal(2, group.Core.Descriptor.ConfVersion);
        Assert.Contains(group.Sent.Skip(answered), m => m.Type == MessageType.TimeoutNow && m.To == b);

        // B never takes over (its campaign is lost); this replica leads again after a restart. The old rule handed
        // leadership back to the first bootstrap voter (this store) and stayed; now the committed preference names B.
        group.Reopen();
        Assert.Equal(ScriptedGroup.PeerB, group.Core.Descriptor.Replicas[0]);
        group.ElectSelf();
        int before = group.Sent.Count;
        for (int i = 0; i < group.Options.ElectionTicks * 5 && !group.Sent.Skip(before).Any(m => m.Type == MessageType.TimeoutNow); i++)
        {
            int sent = group.Sent.Count;
            group.Tick();
            group.AnswerAll(sent);
        }

        Assert.Contains(group.Sent.Skip(before), m => m.Type == MessageType.TimeoutNow && m.To == b);
        Assert.Null(group.Failure);
    }

    [Fact]
    public void Without_a_preference_change_the_first_voter_keeps_leading()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        int before = group.Sent.Count;
        for (int i = 0; i < group.Options.ElectionTicks * 5; i++)
        {
            int sent = group.Sent.Count;
            group.Tick();
            group.AnswerAll(sent);
        }

        Assert.DoesNotContain(group.Sent.Skip(before), m => m.Type == MessageType.TimeoutNow);
        Assert.True(group.Core.IsLeader);
    }

    public void Dispose() => _db.Dispose();

    private ApplyOutcome Apply(PreferLeaderCommand command)
    {
        var outcomes = new List<ApplyOutcome>();
        _index++;
        _sm.ApplyAsync(new[] { new Entry(1, _index, command.Encode()) }, outcomes).AsTask().GetAwaiter().GetResult();
        return Assert.Single(outcomes);
    }
}
