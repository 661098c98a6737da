using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Layout;
using NoKv.Replica.Mvcc;
using NoKv.Storage;

namespace NoKv.Replica.StateMachine;

/// <summary>
/// Applying a merge (docs/replica.md, "Merge"). The source's PrepareMerge freezes it: from that entry on it applies
/// nothing but a RollbackMerge, so its rows on every store equal its rows as of the prepare. The target's CommitMerge
/// then takes the source's range over. User data rows are keyed by user key and shared by every replica of a store, and
/// the merge runs only once both shards have a replica on the same stores, so no data moves: the commit waits until the
/// source's replica on this store applied the prepare (its rows are then final), and in one atomic batch extends the
/// range (epoch above both shards'), folds in the source's per-shard rows (client sessions by highest sequence, fences
/// by highest token, the timestamp floor by maximum) and removes the source's replica here (its group rows, with a
/// tombstone so it never opens again).
/// </summary>
internal sealed partial class ShardStateMachine
{
    private MergeState? _mergeState;
    private bool _mergeStateStaged;
    private MergeState? _stagedMergeState;
    private readonly List<(ShardDescriptor Target, ShardId Source, ulong SourcePeer)> _stagedMerges = new();
    private readonly List<(ShardDescriptor Target, ShardId Source, ulong SourcePeer)> _appliedMerges = new();

    /// <summary>Set when the staged batch must be synced: a prepare the controller checks on every store, a commit that removes a replica.</summary>
    public bool StagedNeedsSync { get; private set; }

    /// <summary>This shard's merge state as of the applied index: non-null while it is a prepared merge source.</summary>
    public MergeState? Merging => _mergeState;

    /// <summary>
    /// Set when applying stopped before a CommitMerge whose source is not yet final on this store (its replica here has
    /// not applied the prepare); entries before it applied. Cleared by <see cref="ClearMergeWait"/> before a retry.
    /// </summary>
    public string? MergeWait { get; private set; }

    /// <summary>The merge state the entry being staged sees (an earlier entry of the batch may have changed it).</summary>
    private MergeState? MergingNow => _mergeStateStaged ? _stagedMergeState : _mergeState;

    public void ClearMergeWait() => MergeWait = null;

    /// <summary>Merges this shard applied as the target since the core last asked: (this shard now, the source, the source's peer here).</summary>
    public List<(ShardDescriptor Target, ShardId Source, ulong SourcePeer)> TakeMerges()
    {
        if (_appliedMerges.Count == 0)
        {
            return [];
        }

        var merges = new List<(ShardDescriptor, ShardId, ulong)>(_appliedMerges);
        _appliedMerges.Clear();
        return merges;
    }

    /// <summary>Why the source <paramref name="shard"/> cannot prepare <paramref name="command"/>, or null if it can.</summary>
    public static (NoKvErrorCode Code, string Detail)? CheckPrepareMerge(ShardDescriptor shard, PrepareMergeCommand command, bool holdsUserData, MergeState? merging)
    {
        if (!holdsUserData)
        {
            return (NoKvErrorCode.InvalidRange, $"shard {shard.Id} is a system group and does not merge");
        }

        if (merging is { } m)
        {
            return (NoKvErrorCode.InvalidRange, $"shard {shard.Id} is already {m}");
        }

        if (command.Epoch != shard.Epoch || command.ConfVersion != shard.ConfVersion)
        {
            return (NoKvErrorCode.WrongShard, $"merge prepared for epoch {command.Epoch} conf {command.ConfVersion}; shard {shard.Id} is at epoch {shard.Epoch} conf {shard.ConfVersion}");
        }

        if (command.Target.Value <= 0 || command.Target == shard.Id || command.Target == SystemShards.Controller)
        {
            return (NoKvErrorCode.InvalidRange, $"merge target {command.Target} is not valid for shard {shard.Id}");
        }

        return null;
    }

    /// <summary>
    /// Why the target <paramref name="shard"/> cannot commit <paramref name="command"/>, or null if it can, judged on
    /// replicated state alone (the same on every replica): epochs, adjacency and co-location.
    /// </summary>
    public static (NoKvErrorCode Code, string Detail)? CheckCommitMerge(ShardDescriptor shard, CommitMergeCommand command, bool holdsUserData, MergeState? merging)
    {
        var source = command.Source;
        if (!holdsUserData)
        {
            return (NoKvErrorCode.InvalidRange, $"shard {shard.Id} is a system group and does not merge");
        }

        if (merging is { } m)
        {
            return (NoKvErrorCode.WrongShard, $"shard {shard.Id} is itself {m}");
        }

        if (command.Epoch != shard.Epoch || command.ConfVersion != shard.ConfVersion)
        {
            return (NoKvErrorCode.WrongShard, $"merge committed for epoch {command.Epoch} conf {command.ConfVersion}; shard {shard.Id} is at epoch {shard.Epoch} conf {shard.ConfVersion}");
        }

        if (source.Id == shard.Id || source.Id.Value <= 0 || source.Id == SystemShards.Controller || command.PrepareIndex == 0)
        {
            return (NoKvErrorCode.InvalidRange, $"shard {source.Id} prepared at {command.PrepareIndex} cannot merge into shard {shard.Id}");
        }

        if (!Adjacent(shard.Range, source.Range))
        {
            return (NoKvErrorCode.InvalidRange, $"shard {source.Id} {source.Range} is not adjacent to shard {shard.Id} {shard.Range}");
        }

        if (source.Peers.Length != shard.Peers.Length || Array.Exists(shard.Peers, p => source.PeerOn(p.Store) is null))
        {
            return (NoKvErrorCode.InvalidRange, $"shard {source.Id} [{string.Join(",", source.Peers)}] does not live on the stores of shard {shard.Id} [{string.Join(",", shard.Peers)}]");
        }

        return null;
    }

    /// <summary>Why a rollback cannot apply to <paramref name="shard"/>, or null if it can.</summary>
    public static (NoKvErrorCode Code, string Detail)? CheckRollbackMerge(ShardDescriptor shard, RollbackMergeCommand command, MergeState? merging)
    {
        if (merging is not { } m || m.PrepareIndex != command.PrepareIndex)
        {
            return (NoKvErrorCode.InvalidRange, $"shard {shard.Id} has no merge prepared at {command.PrepareIndex} ({(merging is { } other ? other.ToString() : "not merging")})");
        }

        if (command.Epoch != shard.Epoch)
        {
            return (NoKvErrorCode.WrongShard, $"rollback for epoch {command.Epoch}; shard {shard.Id} is at epoch {shard.Epoch}");
        }

        return null;
    }

    /// <summary>The shard <paramref name="command"/> makes of <paramref name="target"/>. REQUIRES: <see cref="CheckCommitMerge"/> passed.</summary>
    public static ShardDescriptor Merged(ShardDescriptor target, CommitMergeCommand command)
    {
        var source = command.Source;
        bool sourceFirst = source.Range.End.AsSpan().SequenceEqual(target.Range.Start) && source.Range.End.Length != 0;
        var range = sourceFirst ? new KeyRange(source.Range.Start, target.Range.End) : new KeyRange(target.Range.Start, source.Range.End);

        // Above both: a request addressed to either shard's old epoch is refused, and clients route again.
        long epoch = Math.Max(target.Epoch, source.Epoch) + 1;
        return new ShardDescriptor(target.Id, range, epoch, target.ConfVersion, target.Peers);
    }

    private static bool Adjacent(KeyRange a, KeyRange b) =>
        (a.End.Length != 0 && a.End.AsSpan().SequenceEqual(b.Start)) || (b.End.Length != 0 && b.End.AsSpan().SequenceEqual(a.Start));

    /// <summary>
    /// While this shard is a prepared merge source, every command but RollbackMerge applies as nothing (its rows must stay
    /// as of the prepare); returns true and records the refusal for such an entry.
    /// </summary>
    private bool TryRefuseWhileMerging(in Entry entry, List<ApplyOutcome> outcomes)
    {
        if (MergingNow is not { } merging)
        {
            return false;
        }

        var data = entry.Data.Span;
        if (CommandEnvelope.TryReadHeader(data, out var header) && header.Type == CommandType.RollbackMerge)
        {
            return false;
        }

        outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, NoKvErrorCode.WrongShard, false, Result: $"shard {_shard.Id} is {merging}"));
        return true;
    }

    /// <summary>
    /// Stages <paramref name="entry"/> if it is a merge command and returns true; false for any other entry. Sets
    /// <see cref="MergeWait"/> and returns true without staging anything when a commit must wait for its source here.
    /// </summary>
    private bool TryStageMerge(WriteBatch batch, in Entry entry, List<ApplyOutcome> outcomes)
    {
        var data = entry.Data.Span;
        if (!CommandEnvelope.TryReadHeader(data, out var header) || header.Type is not (CommandType.PrepareMerge or CommandType.CommitMerge or CommandType.RollbackMerge))
        {
            return false;
        }

        var current = Applying;
        switch (header.Type)
        {
            case CommandType.PrepareMerge:
            {
                var command = PrepareMergeCommand.Decode(header, data);
                if (CheckPrepareMerge(current, command, HoldsLocks, MergingNow) is { } refusal)
                {
                    outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, refusal.Code, false, Result: refusal.Detail));
                    return true;
                }

                var state = new MergeState(command.Target, entry.Index, entry.Term);
                _mergeStateStaged = true;
                _stagedMergeState = state;
                batch.Put(KeySpace.MergeStateKey(current.Id), MergeStateCodec.Encode(state));
                StagedNeedsSync = true;
                outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, NoKvErrorCode.Ok, true, Result: state));
                return true;
            }

            case CommandType.RollbackMerge:
            {
                var command = RollbackMergeCommand.Decode(header, data);
                if (CheckRollbackMerge(current, command, MergingNow) is { } refusal)
                {
                    outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, refusal.Code, false, Result: refusal.Detail));
                    return true;
                }

                _mergeStateStaged = true;
                _stagedMergeState = null;
                batch.Delete(KeySpace.MergeStateKey(current.Id));
                outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, NoKvErrorCode.Ok, true));
                return true;
            }

            default:
            {
                var command = CommitMergeCommand.Decode(header, data);
                if (CheckCommitMerge(current, command, HoldsLocks, MergingNow) is { } refusal)
                {
                    outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, refusal.Code, false, Result: refusal.Detail));
                    return true;
                }

                if (LocalSourceNotFinal(command) is { } wait)
                {
                    MergeWait = $"entry {entry.Index} (commit merge of shard {command.Source.Id}) waits: {wait}";
                    return true;
                }

                var merged = Merged(current, command);
                ulong sourcePeer = StageSourceTakeover(batch, current, command.Source.Id, merged);
                _stagedShard = merged;
                _stagedMerges.Add((merged, command.Source.Id, sourcePeer));
                StagedNeedsSync = true;
                outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, NoKvErrorCode.Ok, true, Result: merged));
                return true;
            }
        }
    }

    /// <summary>
    /// Why the source's replica on this store does not yet hold the source's final rows, or null when it does: it must
    /// have applied the very prepare the commit names (the prepare freezes it, so its rows are then the source's rows as
    /// of the prepare on every store).
    /// </summary>
    public string? LocalMergeSourceNotFinal(CommitMergeCommand command) => LocalSourceNotFinal(command);

    private string? LocalSourceNotFinal(CommitMergeCommand command)
    {
        var source = command.Source;
        if (_db.Get(KeySpace.ReplicaStateKey(source.Id)) is not { } stateRow)
        {
            return $"this store holds no replica of shard {source.Id}";
        }

        var local = ReplicaStateCodec.Decode(stateRow).Descriptor;
        if (local.Epoch != source.Epoch || !local.Range.Start.AsSpan().SequenceEqual(source.Range.Start) || !local.Range.End.AsSpan().SequenceEqual(source.Range.End))
        {
            return $"the replica here holds {local}, not {source}";
        }

        if (_db.Get(KeySpace.MergeStateKey(source.Id)) is not { } mergeRow)
        {
            return $"the replica of shard {source.Id} here has not applied the prepare at {command.PrepareIndex}";
        }

        var state = MergeStateCodec.Decode(mergeRow);
        if (state.Target != _shard.Id || state.PrepareIndex != command.PrepareIndex || state.PrepareTerm != command.PrepareTerm)
        {
            return $"the replica of shard {source.Id} here is {state}, not the prepare at {command.PrepareIndex}/{command.PrepareTerm} into shard {_shard.Id}";
        }

        return null;
    }

    /// <summary>
    /// Folds the source's per-shard rows into this shard and removes the source's replica on this store (its group rows
    /// but the tombstone, which now names its peer). Returns the source's peer id here.
    /// </summary>
    private ulong StageSourceTakeover(WriteBatch batch, ShardDescriptor target, ShardId source, ShardDescriptor merged)
    {
        // Sessions: one client session writes one key at a time, so of the two shards' records the one with the higher
        // sequence is the one a retry may still ask for; the other is older than anything the client retries.
        using (var it = _db.NewIterator(new ReadOptions { LowerBound = KeySpace.SessionStart(source), UpperBound = KeySpace.SessionEnd(source) }))
        {
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                var session = new Guid(it.Key[10..26]);
                var theirs = SessionRecord.Decode(it.Value);
                var key = KeySpace.SessionKey(target.Id, session);
                SessionRecord ours = _pendingSessions.TryGetValue(session, out var pending) ? pending
                    : _db.Get(key) is { } stored ? SessionRecord.Decode(stored) : default;
                if (theirs.Sequence > ours.Sequence)
                {
                    _pendingSessions[session] = theirs;
                    batch.Put(key, theirs.Encode());
                }
            }
        }

        // Fences only ever refuse older tokens: the higher of the two is right for the whole range.
        using (var it = _db.NewIterator(new ReadOptions { LowerBound = KeySpace.FenceStart(source), UpperBound = KeySpace.FenceEnd(source) }))
        {
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                long theirs = DecodeFence(it.Value);
                var key = Rekey(it.Key.ToArray(), target.Id);
                long ours = _pendingFences.TryGetValue(key, out var pending) ? pending : _db.Get(key) is { } value ? DecodeFence(value) : 0;
                if (theirs > ours)
                {
                    _pendingFences[key] = theirs;
                    batch.Put(key, EncodeFence(theirs));
                }
            }
        }

        // The floor of the merged range is the higher of both: it has served every snapshot either served and holds
        // every version either stamped. Written at the merged range's start (where it is read from).
        // The row at the other start is deleted: left there, it would hold whatever this replica last wrote to it, which
        // depends on where its apply batches happened to end (replicas must hold identical rows).
        var sourceStart = SourceStart(target, merged);
        var sourceFloor = _db.Get(MvccKeys.Floor(_dataPrefix, sourceStart)) is { } floorRow ? MvccFloor.Decode(floorRow) : default;
        _stagedFloor = _stagedFloor.Combine(sourceFloor);
        var innerStart = merged.Range.Start.AsSpan().SequenceEqual(target.Range.Start) ? sourceStart : target.Range.Start;
        batch.Delete(MvccKeys.Floor(_dataPrefix, innerStart));
        batch.Put(MvccKeys.Floor(_dataPrefix, merged.Range.Start), _stagedFloor.Encode());
        return StageReplicaRemoval(batch, source);
    }

    /// <summary>The source's start key: the merged range's start if the source came first, else the target's end.</summary>
    private static byte[] SourceStart(ShardDescriptor target, ShardDescriptor merged) =>
        merged.Range.Start.AsSpan().SequenceEqual(target.Range.Start) ? target.Range.End : merged.Range.Start;

    /// <summary>Deletes every group row of <paramref name="shard"/>'s replica here but the tombstone, which it raises to the replica's peer.</summary>
    private ulong StageReplicaRemoval(WriteBatch batch, ShardId shard)
    {
        ulong peer = _db.Get(KeySpace.ReplicaStateKey(shard)) is { } row ? ReplicaStateCodec.Decode(row).PeerId : 0;
        var (groupStart, groupEnd) = KeySpace.GroupRange(shard);
        batch.DeleteRange(groupStart, KeySpace.TombstoneKey(shard));
        batch.DeleteRange(KeySpace.TombstoneEnd(shard), groupEnd);
        ulong tombstone = Math.Max(peer, Core.ReplicaDirectory.Tombstone(_db, shard));
        var value = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(value, tombstone);
        batch.Put(KeySpace.TombstoneKey(shard), value);
        return peer;
    }

    /// <summary>
    /// After a snapshot gave this shard <paramref name="incoming"/>: a local replica of another shard whose range the
    /// snapshot covers and whose epoch is below the snapshot's was merged into this shard (this replica skipped the commit);
    /// remove it as the commit would have. (A shard split off this one after the snapshot's index has a higher epoch: a new
    /// shard starts at its parent's next epoch, and a merged shard's epoch is above both of its parts'.)
    /// </summary>
    private void StageSkippedMerges(WriteBatch batch, ShardDescriptor incoming)
    {
        if (!HoldsLocks)
        {
            return;
        }

        foreach (var (other, _, descriptor, _) in Core.ReplicaDirectory.List(_db))
        {
            if (other == incoming.Id || other == SystemShards.Controller || descriptor.Epoch >= incoming.Epoch || !Covers(incoming.Range, descriptor.Range))
            {
                continue;
            }

            ulong peer = StageReplicaRemoval(batch, other);
            _stagedMerges.Add((incoming, other, peer));
        }
    }

    private static bool Covers(KeyRange outer, KeyRange inner) =>
        outer.Start.AsSpan().SequenceCompareTo(inner.Start) <= 0
        && (outer.End.Length == 0 || (inner.End.Length != 0 && inner.End.AsSpan().SequenceCompareTo(outer.End) <= 0));

    private void LoadMergeState() =>
        _mergeState = _db.Get(KeySpace.MergeStateKey(_shard.Id)) is { } row ? MergeStateCodec.Decode(row) : null;

    private void ResetMergeStaging()
    {
        _mergeStateStaged = false;
        _stagedMergeState = null;
        _stagedMerges.Clear();
        StagedNeedsSync = false;
        MergeWait = null;
    }

    private void CompleteMergeApply()
    {
        if (_mergeStateStaged)
        {
            _mergeState = _stagedMergeState;
        }

        _mergeStateStaged = false;
        _stagedMergeState = null;
        _appliedMerges.AddRange(_stagedMerges);
        _stagedMerges.Clear();
        StagedNeedsSync = false;
    }
}
