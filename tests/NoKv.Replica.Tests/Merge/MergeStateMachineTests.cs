using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Core;
using NoKv.Replica.Layout;
using NoKv.Replica.Mvcc;
using NoKv.Replica.StateMachine;
using NoKv.Storage;
using Xunit;
using static NoKv.Replica.Tests.Support.StateMachineTestKit;

namespace NoKv.Replica.Tests.Merge;

/// <summary>
/// Merges applied by the shard state machines of two neighbours on one engine (one store): the source's prepare
/// freezes it, the target's commit takes the range over with the source's sessions, fences and floor and removes the
/// source's replica in the same batch; a commit waits until the source here applied the prepare; refused commands
/// (stale epoch, not adjacent, not co-located, duplicate, wrong prepare) change nothing; snapshots carry the merge state,
/// and a replica that skips a commit through a snapshot removes its stale source.
/// </summary>
public sealed class MergeStateMachineTests : IDisposable
{
    private static readonly ShardId LeftId = new(1);
    private static readonly ShardId RightId = new(2);
    private readonly Database _db = NewEngine();
    private readonly ShardStateMachine _left;
    private readonly ShardStateMachine _right;
    private ulong _leftIndex;
    private ulong _rightIndex;

    public MergeStateMachineTests()
    {
        _left = Open(_db, LeftDescriptor(1), 11);
        _right = Open(_db, RightDescriptor(1), 21);
    }

    [Fact]
    public void A_commit_takes_the_prepared_neighbours_range_over_with_its_sessions_fences_and_floor()
    {
        Assert.Equal(NoKvErrorCode.Ok, Apply(_left, Put(1, "a", "1")).Code);
        Assert.Equal(NoKvErrorCode.Ok, Apply(_right, new FencedWriteCommand(B("res"), 7, Put(2, "y", "2"))).Code);

        // The session's last write, applied by the source; its answer is lost and the client retries after the merge.
        Assert.True(Apply(_right, CreateOnly(3, "x", "3")).Succeeded);
        long rightMaxTs = _right.Floor.MaxTs;

        var prepared = Apply(_right, new PrepareMergeCommand(1, 1, LeftId));
        Assert.Equal(NoKvErrorCode.Ok, prepared.Code);
        var state = Assert.IsType<MergeState>(prepared.Result);
        Assert.Equal(new MergeState(LeftId, _rightIndex, 1), _right.Merging);

        // Frozen: every later command applies as nothing.
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(_right, Put(4, "x", "4")).Code);
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(_right, new SplitCommand(1, B("z"), new ShardId(5), [new SplitPeer(Store, 500)])).Code);
        Assert.Equal("3", S(_right.Read(B("x"), 0).Value));

        var committed = Apply(_left, Commit(state, RightDescriptor(1)));
        Assert.Equal(NoKvErrorCode.Ok, committed.Code);
        var merged = _left.Descriptor;
        Assert.Equal(KeyRange.All.ToString(), merged.Range.ToString());
        Assert.Equal(2, merged.Epoch);
        var (target, source, peer) = Assert.Single(_left.TakeMerges());
        Assert.Equal((merged.ToString(), RightId, 21UL), (target.ToString(), source, peer));

        // The source's replica is gone from the engine (its tombstone keeps it from opening again); its rows are the
        // target's now: the fence, the session, the data, a floor at least the source's.
        Assert.Null(_db.Get(KeySpace.ReplicaStateKey(RightId)));
        Assert.Null(_db.Get(KeySpace.ApplyStateKey(RightId)));
        Assert.Null(_db.Get(KeySpace.MergeStateKey(RightId)));
        Assert.Equal(21UL, ReplicaDirectory.Tombstone(_db, RightId));
        Assert.Equal(7, _left.ReadFence(B("res")));
        Assert.Equal("2", S(_left.Read(B("y"), 0).Value));
        Assert.True(_left.Floor.MaxTs >= rightMaxTs);
        Assert.Null(_db.Get(MvccKeys.Floor(KeySpace.DataPrefix, B("m"))));

        // The retried write, now routed to the merged shard: the recorded outcome, once.
        var retried = Apply(_left, CreateOnly(3, "x", "3", epoch: 2));
        Assert.Equal(NoKvErrorCode.Ok, retried.Code);
        Assert.True(retried.Succeeded, "a create-if-absent applied again would fail: the key exists");

        // Old epochs of either shard are refused; the merged epoch writes anywhere in the range.
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(_left, Put(5, "a", "5")).Code);
        Assert.Equal(NoKvErrorCode.Ok, Apply(_left, Put(5, "z", "5", epoch: 2)).Code);

        // A restarted replica of the merged shard reads what the commit wrote.
        var reopened = Open(_db, ReplicaStateCodec.Decode(_db.Get(KeySpace.ReplicaStateKey(LeftId))!).Descriptor, 11);
        Assert.Equal(merged.ToString(), reopened.Descriptor.ToString());
        Assert.Equal(_left.Floor, reopened.Floor);
    }

    [Fact]
    public void Stale_duplicate_non_adjacent_and_scattered_merges_are_refused_and_change_nothing()
    {
        // Prepare refusals: another epoch or conf version, the shard itself, the controller.
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(_right, new PrepareMergeCommand(0, 1, LeftId)).Code);
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(_right, new PrepareMergeCommand(1, 2, LeftId)).Code);
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(_right, new PrepareMergeCommand(1, 1, RightId)).Code);
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(_right, new PrepareMergeCommand(1, 1, SystemShards.Controller)).Code);
        Assert.Null(_right.Merging);

        var state = Assert.IsType<MergeState>(Apply(_right, new PrepareMergeCommand(1, 1, LeftId)).Result);
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(_right, new PrepareMergeCommand(1, 1, LeftId)).Code);     // a duplicate prepare: the frozen source refuses all but a rollback
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(_right, new RollbackMergeCommand(1, state.PrepareIndex + 1)).Code); // another prepare
        Assert.Equal(state, _right.Merging);

        string before = _left.Descriptor.ToString();
        ulong applied = _left.AppliedIndex;
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(_left, Commit(state, RightDescriptor(1)) with { Epoch = 0 }).Code);       // stale target epoch
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(_left, Commit(state, RightDescriptor(1)) with { ConfVersion = 2 }).Code); // stale conf version
        var farAway = new ShardDescriptor(RightId, new KeyRange(B("q"), []), 1, 1, [new PeerDescriptor(21, Store, PeerRole.Voter)]);
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(_left, Commit(state, farAway)).Code);                                  // not adjacent
        var elsewhere = new ShardDescriptor(RightId, new KeyRange(B("m"), []), 1, 1, [new PeerDescriptor(21, new StoreId(2), PeerRole.Voter)]);
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(_left, Commit(state, elsewhere)).Code);                                // not co-located
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(_left, Commit(state, LeftDescriptor(1))).Code);                        // itself
        Assert.Equal(before, _left.Descriptor.ToString());
        Assert.Empty(_left.TakeMerges());
        Assert.NotNull(_db.Get(KeySpace.ReplicaStateKey(RightId)));

        // The commit, then the same commit again (a retry whose first answer was lost): refused by the moved epoch.
        var commit = Commit(state, RightDescriptor(1));
        Assert.Equal(NoKvErrorCode.Ok, Apply(_left, commit).Code);
        string after = _left.Descriptor.ToString();
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(_left, commit).Code);
        Assert.Equal(after, _left.Descriptor.ToString());
        Assert.True(_left.AppliedIndex > applied);
    }

    [Fact]
    public void A_commit_waits_until_the_source_here_applied_the_prepare_then_applies()
    {
        // The target's log reaches the commit before this store's source replica applied the prepare (index 3, term 1).
        Apply(_right, Put(1, "x", "1"));
        Apply(_right, Put(2, "x", "2"));
        var commit = Commit(new MergeState(LeftId, 3, 1), RightDescriptor(1));
        var outcomes = new List<ApplyOutcome>();
        var batch = new WriteBatch();
        var entries = new[] { new Entry(1, 1, Put(3, "a", "1").Encode()), new Entry(1, 2, commit.Encode()), new Entry(1, 3, Put(4, "x", "9", epoch: 2).Encode()) };
        Assert.True(_left.StageApply(entries, outcomes, batch));
        _db.Write(batch, WriteOptions.Default);
        _left.CompleteApply();

        // Applied up to the entry before the commit, and stopped there.
        Assert.NotNull(_left.MergeWait);
        Assert.Equal(1UL, _left.AppliedIndex);
        Assert.Single(outcomes);
        Assert.Equal(1, _left.Descriptor.Epoch);

        // Still not final (the source's last write is applied, the prepare is not): still waiting, nothing applied.
        outcomes.Clear();
        batch = new WriteBatch();
        Assert.False(_left.StageApply(entries.AsSpan(1), outcomes, batch));
        Assert.NotNull(_left.MergeWait);

        Assert.Equal(NoKvErrorCode.Ok, Apply(_right, new PrepareMergeCommand(1, 1, LeftId)).Code);
        Assert.Equal(3UL, _rightIndex);

        // The retry applies the commit and what followed it.
        outcomes.Clear();
        batch = new WriteBatch();
        Assert.True(_left.StageApply(entries.AsSpan(1), outcomes, batch));
        _db.Write(batch, WriteOptions.Default);
        _left.CompleteApply();
        Assert.Null(_left.MergeWait);
        Assert.Equal(3UL, _left.AppliedIndex);
        Assert.Equal([NoKvErrorCode.Ok, NoKvErrorCode.Ok], outcomes.Select(o => o.Code));
        Assert.Equal("9", S(_left.Read(B("x"), 0).Value));
    }

    [Fact]
    public void A_rolled_back_source_serves_again_and_its_epoch_is_unchanged()
    {
        var state = Assert.IsType<MergeState>(Apply(_right, new PrepareMergeCommand(1, 1, LeftId)).Result);
        Assert.Equal(NoKvErrorCode.WrongShard, Apply(_right, Put(1, "x", "1")).Code);
        Assert.Equal(NoKvErrorCode.Ok, Apply(_right, new RollbackMergeCommand(1, state.PrepareIndex)).Code);
        Assert.Null(_right.Merging);
        Assert.Null(_db.Get(KeySpace.MergeStateKey(RightId)));
        Assert.Equal(RightDescriptor(1).ToString(), _right.Descriptor.ToString());
        Assert.Equal(NoKvErrorCode.Ok, Apply(_right, Put(1, "x", "1")).Code);
        Assert.Equal(NoKvErrorCode.InvalidRange, Apply(_right, new RollbackMergeCommand(1, state.PrepareIndex)).Code); // nothing to roll back
    }

    [Fact]
    public async Task Snapshots_carry_the_merge_state_and_a_replica_that_skipped_the_commit_removes_its_source()
    {
        Apply(_right, Put(1, "x", "1"));
        var state = Assert.IsType<MergeState>(Apply(_right, new PrepareMergeCommand(1, 1, LeftId)).Result);

        // Another store, whose source replica lags: a snapshot of the prepared source freezes it too.
        using var other = NewEngine("/other");
        var otherLeft = Open(other, LeftDescriptor(1), 11);
        var otherRight = Open(other, RightDescriptor(1), 21);
        await otherRight.InstallSnapshotAsync(_right.ExportSnapshot(), _right.AppliedIndex, 1);
        Assert.Equal(state, otherRight.Merging);
        Assert.Equal("1", S(otherRight.Read(B("x"), 0).Value));

        // The merged shard's snapshot reaches the other store's target, which missed the commit: the stale source goes.
        Assert.Equal(NoKvErrorCode.Ok, Apply(_left, Commit(state, RightDescriptor(1))).Code);
        Apply(_left, Put(2, "x", "2", epoch: 2));
        await otherLeft.InstallSnapshotAsync(_left.ExportSnapshot(), _left.AppliedIndex, 1);
        Assert.Equal(_left.Descriptor.Range.ToString(), otherLeft.Descriptor.Range.ToString());
        var (_, source, peer) = Assert.Single(otherLeft.TakeMerges());
        Assert.Equal((RightId, 21UL), (source, peer));
        Assert.Null(other.Get(KeySpace.ReplicaStateKey(RightId)));
        Assert.Equal(21UL, ReplicaDirectory.Tombstone(other, RightId));
        Assert.Equal("2", S(otherLeft.Read(B("x"), 0).Value));
    }

    [Fact]
    public void The_merge_commands_are_laid_out_as_documented_and_round_trip()
    {
        var prepare = new PrepareMergeCommand(7, 3, new ShardId(9)).Encode();
        Assert.Equal("CE010B" + "0700000000000000" + "0300000000000000" + "0900000000000000", Convert.ToHexString(prepare));
        var rollback = new RollbackMergeCommand(7, 300).Encode();
        Assert.Equal("CE010F" + "0700000000000000" + "2C01000000000000", Convert.ToHexString(rollback));

        var commit = new CommitMergeCommand(4, 1, 300, 2, RightDescriptor(3));
        var entry = commit.Encode();
        Assert.Equal("CE010C" + "0400000000000000" + "0100000000000000" + "2C01000000000000" + "0200000000000000", Convert.ToHexString(entry[..35]));
        var decoded = CommitMergeCommand.Decode(CommandEnvelope.ReadHeader(entry), entry);
        Assert.Equal(commit.ToString(), decoded.ToString());
        foreach (var bytes in new[] { prepare, rollback, entry })
        {
            for (int cut = CommandEnvelope.HeaderSize; cut < bytes.Length; cut++)
            {
                var shortened = bytes[..cut];
                var header = CommandEnvelope.ReadHeader(shortened);
                Assert.Throws<CommandFormatException>(() => _ = header.Type switch
                {
                    CommandType.PrepareMerge => (object)PrepareMergeCommand.Decode(header, shortened),
                    CommandType.RollbackMerge => RollbackMergeCommand.Decode(header, shortened),
                    _ => CommitMergeCommand.Decode(header, shortened),
                });
            }
        }
    }

    private CommitMergeCommand Commit(MergeState state, ShardDescriptor source) => new(_left.Descriptor.Epoch, _left.Descriptor.ConfVersion, state.PrepareIndex, state.PrepareTerm, source);

    private ApplyOutcome Apply(ShardStateMachine sm, object command)
    {
        byte[] entry = command switch
        {
            KvCommand c => c.Encode(),
            FencedWriteCommand c => c.Encode(),
            SplitCommand c => c.Encode(),
            PrepareMergeCommand c => c.Encode(),
            CommitMergeCommand c => c.Encode(),
            RollbackMergeCommand c => c.Encode(),
            _ => throw new ArgumentException(command.GetType().Name),
        };
        var outcome = ApplyOne(sm, sm == _left ? ++_leftIndex : ++_rightIndex, entry);
        Assert.Null(sm.MergeWait);
        return outcome;
    }

    private static ShardDescriptor LeftDescriptor(long epoch) =>
        new(LeftId, new KeyRange([], B("m")), epoch, 1, [new PeerDescriptor(11, Store, PeerRole.Voter)]);

    private static ShardDescriptor RightDescriptor(long epoch) =>
        new(RightId, new KeyRange(B("m"), []), epoch, 1, [new PeerDescriptor(21, Store, PeerRole.Voter)]);

    public void Dispose() => _db.Dispose();
}
