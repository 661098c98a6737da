using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Layout;
using NoKv.Replica.Mvcc;
using NoKv.Replica.StateMachine;
using NoKv.Storage;
using Xunit;
using static NoKv.Replica.Tests.Support.StateMachineTestKit;

namespace NoKv.Replica.Tests.Split;

/// <summary>
/// A split applied by the shard state machine on a real engine: the shard shrinks and the new shard's replica is
/// created whole in the same batch (state row, apply and Raft state, sessions, fences, floor); refused splits change
/// nothing; a snapshot carries the shrunk descriptor and lets a replica that skipped the split create the new shard.
/// </summary>
public sealed class SplitStateMachineTests : IDisposable
{
    private static readonly ShardId Right = new(9);
    private readonly Database _db = NewEngine();
    private readonly ShardStateMachine _sm;
    private ulong _index;

    public SplitStateMachineTests()
    {
        _sm = new ShardStateMachine(_db, new ReplicaState(11, Shard(1)));
    }

    [Fact]
    public async Task A_split_shrinks_the_shard_and_creates_the_new_shards_replica_in_the_same_batch()
    {
        Assert.Equal(NoKvErrorCode.Ok, Apply(Put(1, "a", "1")).Code);
        Assert.Equal(NoKvErrorCode.Ok, Apply(new FencedWriteCommand(B("res"), 7, Put(2, "b", "3"))).Code);

        // The session's last write, whose answer the client will not get: it retries after the split.
        Assert.True(Apply(CreateOnly(3, "x", "2")).Succeeded);

        var outcome = Apply(SplitAt("m", epoch: 1));
        Assert.Equal(NoKvErrorCode.Ok, outcome.Code);
        Assert.True(outcome.Succeeded);

        // The left half: [start, m), next epoch, same members.
        Assert.Equal(2, _sm.Descriptor.Epoch);
        Assert.Equal(B("m"), _sm.Descriptor.Range.End);
        var (left, right) = Assert.Single(_sm.TakeSplits());
        Assert.Equal(_sm.Descriptor.ToString(), left.ToString());

        // The right half opens from what the split wrote: its own peer, [m, end), the same epoch, applied at the split
        // group's initial index, the client session and the fence copied, its floor on its start key.
        var state = ReplicaStateCodec.Decode(_db.Get(KeySpace.ReplicaStateKey(Right))!);
        Assert.Equal(211UL, state.PeerId);
        Assert.Equal(right.ToString(), state.Descriptor.ToString());
        Assert.Equal(B("m"), right.Range.Start);
        Assert.Empty(right.Range.End);
        Assert.Equal(2, right.Epoch);
        var rightSm = new ShardStateMachine(_db, state);
        Assert.Equal(ShardStateMachine.SplitInitialIndex, rightSm.AppliedIndex);
        Assert.Equal(7, rightSm.ReadFence(B("res")));
        Assert.NotNull(_db.Get(KeySpace.SessionKey(Right, Session)));
        Assert.NotNull(_db.Get(MvccKeys.Floor(KeySpace.DataPrefix, B("m"))));
        Assert.NotNull(_db.Get(KeySpace.HardStateKey(Right)));
        Assert.Equal("2", S(rightSm.Read(B("x"), 0).Value));

        // Old-epoch writes are refused by the left; a write for the right half at the new epoch too.
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(Put(4, "b", "4")).Code);
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(Put(4, "y", "4", epoch: 2)).Code);
        Assert.Equal(NoKvErrorCode.Ok, Apply(Put(4, "b", "4", epoch: 2)).Code);

        // A retry of the write that applied before the split, now routed to the right half: the recorded outcome, once.
        var outcomes = new List<ApplyOutcome>();
        await rightSm.ApplyAsync(new[] { new Entry(1, 6, CreateOnly(3, "x", "2", epoch: 2).Encode()) }, outcomes);
        var retried = Assert.Single(outcomes);
        Assert.Equal(NoKvErrorCode.Ok, retried.Code);
        Assert.True(retried.Succeeded, "a create-if-absent applied again would fail: the key exists");
    }

    [Fact]
    public void Stale_duplicate_and_malformed_splits_are_refused_and_change_nothing()
    {
        Assert.Equal(NoKvErrorCode.Ok, Apply(SplitAt("m", epoch: 1)).Code);
        _sm.TakeSplits();
        string after = _sm.Descriptor.ToString();

        Assert.Equal(NoKvErrorCode.WrongShard, Apply(SplitAt("m", epoch: 1)).Code);                      // the same split again
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(SplitAt("q", epoch: 2)).Code);                    // outside [start, m)
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(SplitAt("", epoch: 2)).Code);                     // at the start
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(new SplitCommand(2, B("c"), new ShardId(10), [new SplitPeer(new StoreId(5), 500)])).Code);
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(new SplitCommand(2, B("c"), new ShardId(1), [new SplitPeer(Store, 500)])).Code);
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(new SplitCommand(2, B("c"), new ShardId(10), [new SplitPeer(Store, 11)])).Code);

        Assert.Equal(after, _sm.Descriptor.ToString());
        Assert.Empty(_sm.TakeSplits());
        Assert.Null(_db.Get(KeySpace.ReplicaStateKey(new ShardId(10))));
    }

    [Fact]
    public async Task A_replica_that_skips_the_split_through_a_snapshot_creates_the_new_shard_empty()
    {
        Apply(Put(1, "x", "1"));
        Apply(SplitAt("m", epoch: 1));
        Apply(Put(2, "a", "2", epoch: 2));
        var image = _sm.ExportSnapshot();

        // Another store's replica of the shard, still at epoch 1 (it missed the split), with a stale row of "x".
        using var other = NewEngine("/other");
        var behind = new ShardStateMachine(other, new ReplicaState(11, Shard(1)));
        await behind.InstallSnapshotAsync(image, _sm.AppliedIndex, 1);

        Assert.Equal(_sm.Descriptor.ToString(), behind.Descriptor.ToString());
        var (_, right) = Assert.Single(behind.TakeSplits());
        Assert.Equal(Right, right.Id);
        var created = ReplicaStateCodec.Decode(other.Get(KeySpace.ReplicaStateKey(Right))!);
        Assert.Equal(211UL, created.PeerId);

        // Empty: nothing applied and no Raft state, so its leader sends it a snapshot rather than entries.
        Assert.Equal(0UL, new ShardStateMachine(other, created).AppliedIndex);
        Assert.Null(other.Get(KeySpace.HardStateKey(Right)));

        // Installing the same image again creates nothing more.
        await behind.InstallSnapshotAsync(image, _sm.AppliedIndex, 1);
        Assert.Empty(behind.TakeSplits());
    }

    [Fact]
    public void The_split_command_is_laid_out_as_documented_and_round_trips()
    {
        var command = new SplitCommand(7, B("k"), new ShardId(9), [new SplitPeer(new StoreId(2), 300)]);
        var entry = command.Encode();
        Assert.Equal("CE010A" + "0700000000000000" + "010000006B" + "0900000000000000" + "01000000" + "02000000" + "2C01000000000000", Convert.ToHexString(entry));
        var decoded = SplitCommand.Decode(CommandEnvelope.ReadHeader(entry), entry);
        Assert.Equal(command.ToString(), decoded.ToString());
        for (int cut = CommandEnvelope.HeaderSize; cut < entry.Length; cut++)
        {
            var shortened = entry[..cut];
            Assert.Throws<CommandFormatException>(() => SplitCommand.Decode(CommandEnvelope.ReadHeader(shortened), shortened));
        }
    }

    private ApplyOutcome Apply(SplitCommand command) => Apply(command.Encode());

    private ApplyOutcome Apply(KvCommand command) => Apply(command.Encode());

    private ApplyOutcome Apply(FencedWriteCommand command) => Apply(command.Encode());

    private ApplyOutcome Apply(byte[] entry) => ApplyOne(_sm, ++_index, entry);

    private static SplitCommand SplitAt(string key, long epoch) => new(epoch, B(key), Right, [new SplitPeer(Store, 211)]);

    private static ShardDescriptor Shard(long epoch) =>
        new(new ShardId(1), KeyRange.All, epoch, 1, [new PeerDescriptor(11, Store, PeerRole.Voter)]);

    public void Dispose() => _db.Dispose();
}
