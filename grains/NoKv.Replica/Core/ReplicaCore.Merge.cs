using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Layout;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;
using NoKv.Storage;

namespace NoKv.Replica.Core;

/// <summary>
/// Merging two neighbouring shards (docs/replica.md, "Merge"): the source's leader proposes a
/// <see cref="PrepareMergeCommand"/> (the source freezes), the target's leader a <see cref="CommitMergeCommand"/> (the
/// target takes the range over once the source's replica on its store is final) or, if the commit can never apply, the
/// source's leader a <see cref="RollbackMergeCommand"/>. A target replica whose local source is not final yet stops
/// applying before the commit and retries on every tick; the host learns of the source's removal through
/// <see cref="Merged"/> and closes that replica.
/// </summary>
public sealed partial class ReplicaCore
{
    // The highest committed index Raft handed this core; entries above the applied index up to it are in the log.
    private ulong _handedOut;

    // Non-zero while applying waits before the CommitMerge at this index (its source is not final on this store).
    private ulong _mergeWaitIndex;
    private string? _mergeWaitReason;
    private bool _mergeRetryDue;

    /// <summary>
    /// Raised once per merge this replica applied as the target, after it is durable: (this shard as it is now, the source
    /// shard, the source's peer on this store, whose replica state is gone and must be closed). Raised from inside the
    /// pump: a handler must not call back into this core synchronously.
    /// </summary>
    public event Action<ShardDescriptor, ShardId, ulong>? Merged;

    /// <summary>Non-null while this shard is a prepared merge source (as of the applied index).</summary>
    public MergeState? Merging => _stateMachine.Merging;

    /// <summary>Why applying waits before a merge commit (null while it does not).</summary>
    public string? MergeWait => _mergeWaitIndex == 0 ? null : _mergeWaitReason;

    /// <summary>
    /// Proposes freezing this shard as the source of a merge into <paramref name="target"/> and answers once it applied
    /// here. Refused with WrongShard for another epoch or conf version than expected, with InvalidRange for a system group,
    /// an invalid target or a shard already merging; a refused prepare changes nothing.
    /// </summary>
    public async Task<WriteResponse> PrepareMergeAsync(long expectedEpoch, long expectedConfVersion, ShardId target, CancellationToken cancellationToken = default)
    {
        var command = new PrepareMergeCommand(expectedEpoch, expectedConfVersion, target);
        var shard = Descriptor;
        var rejection = CheckServing() ?? ShardStateMachine.CheckPrepareMerge(shard, command, HoldsUserData, _stateMachine.Merging);
        return rejection is { } r
            ? new WriteResponse { Code = r.Code, Detail = r.Detail, CurrentEpoch = shard.Epoch, LeaderHint = LeaderHint() }
            : await ProposeAdminAsync(command.Encode(), cancellationToken).ConfigureAwait(true);
    }

    /// <summary>
    /// Proposes taking over the range of <paramref name="source"/>, prepared at (<paramref name="prepareIndex"/>,
    /// <paramref name="prepareTerm"/>), and answers once it applied here (<see cref="WriteResponse.CurrentEpoch"/> is then
    /// the merged epoch). Refused with WrongShard for another epoch or conf version, with InvalidRange for a source that is
    /// not an adjacent neighbour on the same stores, and with StoreUnavailable while the source's replica on this store has
    /// not applied that prepare (try again); a refused commit changes nothing.
    /// </summary>
    public async Task<WriteResponse> CommitMergeAsync(long expectedEpoch, long expectedConfVersion, ShardDescriptor source, ulong prepareIndex, ulong prepareTerm, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var command = new CommitMergeCommand(expectedEpoch, expectedConfVersion, prepareIndex, prepareTerm, source);
        var shard = Descriptor;
        var rejection = CheckServing() ?? ShardStateMachine.CheckCommitMerge(shard, command, HoldsUserData, _stateMachine.Merging);
        if (rejection is null && _stateMachine.LocalMergeSourceNotFinal(command) is { } wait)
        {
            // Every replica would wait for its own copy of the source; the leader proposes only once its own is final.
            rejection = (NoKvErrorCode.StoreUnavailable, $"shard {source.Id} is not final on store {_store}: {wait}");
        }

        return rejection is { } r
            ? new WriteResponse { Code = r.Code, Detail = r.Detail, CurrentEpoch = shard.Epoch, LeaderHint = LeaderHint() }
            : await ProposeAdminAsync(command.Encode(), cancellationToken).ConfigureAwait(true);
    }

    /// <summary>
    /// Proposes ending the merge prepared at <paramref name="prepareIndex"/>; the shard serves again once it applied. The
    /// caller must know that the target can never apply the matching commit (docs/replica.md, "Merge").
    /// </summary>
    public async Task<WriteResponse> RollbackMergeAsync(long expectedEpoch, ulong prepareIndex, CancellationToken cancellationToken = default)
    {
        var command = new RollbackMergeCommand(expectedEpoch, prepareIndex);
        var shard = Descriptor;
        var rejection = CheckFailedOrHalted() ?? ShardStateMachine.CheckRollbackMerge(shard, command, _stateMachine.Merging);
        return rejection is { } r
            ? new WriteResponse { Code = r.Code, Detail = r.Detail, CurrentEpoch = shard.Epoch, LeaderHint = LeaderHint() }
            : await ProposeAdminAsync(command.Encode(), cancellationToken).ConfigureAwait(true);
    }

    private bool HoldsUserData => KeySpace.DataPrefixOf(Descriptor.Id) == KeySpace.DataPrefix;

    private async Task<WriteResponse> ProposeAdminAsync(byte[] command, CancellationToken cancellationToken)
    {
        if (!_node.IsLeader)
        {
            return new WriteResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
        }

        var waiter = new ProposalWaiter(command, Deadline());
        var response = await ProposeAndWaitAsync(waiter, cancellationToken).ConfigureAwait(true);
        if (response.Code != NoKvErrorCode.Ok && waiter.Result is string detail)
        {
            return new WriteResponse { Code = response.Code, Detail = detail, CurrentEpoch = Descriptor.Epoch, LeaderHint = response.LeaderHint };
        }

        return response;
    }

    /// <summary>Notes how far Raft handed out committed entries, and whether applying waits for a merge source.</summary>
    private void TrackApplyProgress(ReadOnlySpan<Entry> committed)
    {
        if (!committed.IsEmpty)
        {
            _handedOut = Math.Max(_handedOut, committed[^1].Index);
        }

        if (_mergeWaitIndex == 0 && _stateMachine.MergeWait is { } reason)
        {
            _mergeWaitIndex = _stateMachine.AppliedIndex + 1;
            _mergeWaitReason = reason;
            ReplicaCoreLog.MergeWaiting(_logger, _name, reason);
            LogEvent("merge_waiting", $"{_name}: {reason}");
        }
    }

    /// <summary>
    /// While applying waits before a merge commit: applies the entries Raft handed out since (from the log), once the
    /// source is final here. Runs inside the pump, between Readies.
    /// </summary>
    private async Task ResumeMergeWaitAsync()
    {
        _mergeRetryDue = false;
        if (_mergeWaitIndex == 0 || _failed || _closed)
        {
            return;
        }

        ulong from = _stateMachine.AppliedIndex + 1;
        var entries = new List<Entry>();
        if (from <= _handedOut)
        {
            _log.Entries(from, _handedOut + 1, ulong.MaxValue, entries);
        }

        _mergeWaitIndex = 0;
        _stateMachine.ClearMergeWait();
        _outcomes.Clear();
        var batch = new WriteBatch();
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries);
        bool staged = StageApply(span, batch);
        if (staged)
        {
            await PersistAsync(batch, _stateMachine.StagedNeedsSync ? WriteOptions.Synced : WriteOptions.Default).ConfigureAwait(true);
            CompleteApply();
        }

        AnswerOutcomes();
        DropOverwrittenProposals(_stateMachine.AppliedIndex);
        CompleteAppliedReads();
    }

    /// <summary>After an apply completes: reports merges this replica applied as the target (the host closes the sources).</summary>
    private void ReportMerges()
    {
        foreach (var (target, source, peer) in _stateMachine.TakeMerges())
        {
            ReplicaCoreLog.MergeApplied(_logger, _name, target.ToString(), source.Value, peer);
            LogEvent("merge_applied", $"{_name}: now {target}; shard {source} merged in");

            // Lock names of the source's range are this shard's to time now.
            _leasesStale = true;
            Merged?.Invoke(target, source, peer);
        }
    }
}
