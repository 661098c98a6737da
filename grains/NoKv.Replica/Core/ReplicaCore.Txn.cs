using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Commands;
using NoKv.Replica.Commands.Txn;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

/// <summary>
/// Transactional requests (docs/transactions.md): snapshot reads and commit validation are served by the leader
/// once its in-memory read floor covers their timestamp (<c>ReplicaCore.ReadFloor.cs</c>) and a linearizable read
/// index is applied; prewrite, commit, rollback, check-status and one-phase commits are proposed as commands and
/// answered from their apply.
/// </summary>
public sealed partial class ReplicaCore
{
    public async Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken = default)
    {
        var shard = Descriptor;
        var rejection = CheckServing() ?? CheckTxn(request, shard);
        if (rejection is { } r)
        {
            return new TxnResponse { Code = r.Code, Detail = r.Detail, CurrentEpoch = shard.Epoch, LeaderHint = LeaderHint() };
        }

        if (!_node.IsLeader)
        {
            return new TxnResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = shard.Epoch, CurrentShards = SelfDescriptor() };
        }

        if (request.Op == TxnOp.OnePhasePrimary && _host.ClusterFormatLevel < CommandFormatLevel.PrimaryInOnePhase)
        {
            // Its entry (type 30) would stop every replica of an older build (docs/format-commands.md, "Gate"); the
            // client commits in the classic order instead.
            return new TxnResponse
            {
                Code = NoKvErrorCode.CommandNotEnabled,
                Detail = $"OnePhasePrimary (command type 30) needs cluster format level {CommandFormatLevel.PrimaryInOnePhase}; the cluster is at {_host.ClusterFormatLevel} until every store runs a build that reads it",
                CurrentEpoch = shard.Epoch,
            };
        }

        switch (request.Op)
        {
            case TxnOp.Get or TxnOp.GetMany or TxnOp.Scan or TxnOp.Validate:
                return await TxnReadAsync(request, cancellationToken).ConfigureAwait(true);
            case TxnOp.CheckStatus when await PeekStatusAsync(request, cancellationToken).ConfigureAwait(true) is { } answered:
                return answered;
            case TxnOp.CommitBatch:
                return await CommitBatchAsync(request.Batch!, cancellationToken).ConfigureAwait(true);
            default:
                var command = request.Op switch
                {
                    TxnOp.Prewrite => new TxnPrewriteCommand(request.Epoch, request.StartTs, _host.WallClockMs, request.LockTtlMs, request.PrimaryKey!, request.Mutations!).Encode(),
                    TxnOp.Commit => new TxnCommitCommand(request.Epoch, request.StartTs, request.CommitTs, request.PrimaryKey, request.Keys!).Encode(),
                    TxnOp.Rollback => new TxnRollbackCommand(request.Epoch, request.StartTs, request.PrimaryKey, request.Keys ?? []).Encode(),
                    TxnOp.CheckStatus => new TxnCheckStatusCommand(request.Epoch, request.StartTs, _host.WallClockMs, request.RollbackIfAbsent, request.PrimaryKey!).Encode(),
                    TxnOp.OnePhasePrimary => new TxnOnePhaseCommand(request.Epoch, request.StartTs, _host.WallClockMs, request.Mutations!, request.Keys ?? [], request.Ranges ?? [], request.MinCommitTs).Encode(),
                    _ => new TxnOnePhaseCommand(request.Epoch, request.StartTs, _host.WallClockMs, request.Mutations!, request.Keys ?? [], request.Ranges ?? []).Encode(),
                };
                bool stamped = request.Op is TxnOp.OnePhase or TxnOp.OnePhasePrimary;
                if (stamped && await PrimeReadFloorAsync().ConfigureAwait(true) is { } unprimed)
                {
                    return new TxnResponse { Code = unprimed.Code, Detail = unprimed.Detail, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
                }

                // A prewrite or one-phase commit in an unanchored shard is refused at apply: anchor first, so that the
                // transaction's retry (above the anchor) gets through.
                if (request.Op is TxnOp.Prewrite or TxnOp.OnePhase or TxnOp.OnePhasePrimary && await AnchorIfNeededAsync(cancellationToken).ConfigureAwait(true) is { } unanchored)
                {
                    return new TxnResponse { Code = unanchored.Code, Detail = unanchored.Detail, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
                }

                // A commit raises the shard's highest version to its commit timestamp, which later stamps build on.
                var waiter = new ProposalWaiter(command, Deadline()) { Stamped = stamped, StampedKeys = stamped ? Array.ConvertAll(request.Mutations!, m => m.Key) : null, StampAtLeast = request.Op switch { TxnOp.OnePhase => request.StartTs, TxnOp.OnePhasePrimary => Math.Max(request.StartTs, request.MinCommitTs), TxnOp.Commit => request.CommitTs, _ => 0 } };
                var response = await ProposeAndWaitAsync(waiter, cancellationToken).ConfigureAwait(true);
                if (stamped && response.Code == NoKvErrorCode.Ok && await WaitStampIssuedAsync(waiter.StampBound).ConfigureAwait(true) is { } unconfirmed)
                {
                    // Committed, but not yet below what the oracle issued: the retry finds it committed and waits again.
                    return new TxnResponse { Code = unconfirmed.Code, Detail = unconfirmed.Detail, CurrentEpoch = Descriptor.Epoch };
                }

                if (request.Op == TxnOp.Prewrite && waiter.Result is TxnResult { Code: NoKvErrorCode.Ok } locked)
                {
                    return await PrewrittenAsync(locked).ConfigureAwait(true);
                }

                return waiter.Result is TxnResult result
                    ? ToResponse(result, Descriptor)
                    : new TxnResponse { Code = response.Code == NoKvErrorCode.Ok ? NoKvErrorCode.ProposalDropped : response.Code, Detail = response.Detail, LeaderHint = response.LeaderHint, CurrentEpoch = response.CurrentEpoch };
        }
    }

    /// <summary>
    /// The answer to an applied prewrite, with this leader's read floor as the transaction's minimum commit timestamp
    /// (docs/transactions.md, "Primary in one phase"). The locks are applied, so every snapshot read served from now on
    /// meets them; every one served before was promised at or below the floor read here: by this leader in this term
    /// (a promise raises the floor before the read is served), or before this term's floor was primed (below the
    /// block it primed with). No await lies between the priming check and reading the floor. 0 when the floor cannot
    /// be primed (not leader, oracle unreachable): the client then asks the oracle for a timestamp instead.
    /// </summary>
    private async Task<TxnResponse> PrewrittenAsync(TxnResult locked)
    {
        long floor = Descriptor.Id != SystemShards.Controller && await PrimeReadFloorAsync().ConfigureAwait(true) is null ? _memFloor : 0;

        // Commits this shard stamped before the locks applied (one-phase commits, whose reads it checked) may lie above
        // everything the oracle has issued yet: the transaction's commit timestamp must land above them, whether the
        // oracle issues it after this answer (classic) or a primary's shard stamps it above MinCommitTs.
        long stamped = _stateMachine.Floor.MaxTs;
        if (Descriptor.Id != SystemShards.Controller && await WaitStampIssuedAsync(stamped).ConfigureAwait(true) is { } unissued)
        {
            return new TxnResponse { Code = unissued.Code, Detail = unissued.Detail, CurrentEpoch = Descriptor.Epoch };
        }

        floor = floor == 0 ? 0 : Math.Max(floor, stamped);
        var response = ToResponse(locked, Descriptor);
        return new TxnResponse
        {
            Code = response.Code,
            Status = response.Status,
            CommitTs = response.CommitTs,
            CurrentEpoch = response.CurrentEpoch,
            MinCommitTs = floor,
        };
    }

    /// <summary>
    /// Secondary commits of several transactions in one call: each is proposed and applied exactly as by
    /// <see cref="TxnAsync"/> (one entry each), but the pump is held while they are taken in, so they reach the Raft
    /// node in one DrainInbox (one Ready, one log write, one append per follower). Answers Ok once every one is, else
    /// the first failure (the client retries the whole batch, which commits already committed keys again as a no-op,
    /// or leaves the locks to their readers, who roll them forward through the primary).
    /// </summary>
    private async Task<TxnResponse> CommitBatchAsync(TxnRequest[] batch, CancellationToken cancellationToken)
    {
        var pending = new Task<TxnResponse>[batch.Length];
        _pumpHeld++;
        try
        {
            for (int i = 0; i < pending.Length; i++)
            {
                pending[i] = TxnAsync(batch[i], cancellationToken);
            }
        }
        finally
        {
            _pumpHeld--;
        }

        await PumpAsync().ConfigureAwait(true);
        var answers = await Task.WhenAll(pending).ConfigureAwait(true);
        foreach (var answer in answers)
        {
            if (answer.Code != NoKvErrorCode.Ok)
            {
                return answer;
            }
        }

        return answers[0];
    }

    private async Task<TxnResponse> TxnReadAsync(TxnRequest request, CancellationToken cancellationToken)
    {
        long readTs = request.Op == TxnOp.Validate ? request.CommitTs : request.StartTs;
        if (Descriptor.Id == SystemShards.Controller)
        {
            // The controller group stamps its own rows without an oracle (it is the oracle), so it promises no snapshots.
            return new TxnResponse { Code = NoKvErrorCode.WrongShard, Detail = "the controller group serves no transactions", CurrentEpoch = Descriptor.Epoch };
        }

        // Anchoring awaits a proposal, so the floor is primed again after it (a no-op unless the term changed meanwhile).
        if ((await PrimeReadFloorAsync().ConfigureAwait(true)
            ?? await AnchorIfNeededAsync(cancellationToken).ConfigureAwait(true)
            ?? await PrimeReadFloorAsync().ConfigureAwait(true)) is { } unprimed)
        {
            return new TxnResponse { Code = unprimed.Code, Detail = unprimed.Detail, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
        }

        // From here to the read index request nothing awaits: the promise and the stamped proposals it must wait for
        // are taken in one step (see PromiseReadFloor). An unanchor entry of this term not yet applied is waited for
        // too: the read is then refused (the state machine checks the mark), never served past an unanchored write.
        ulong term = _node.Term;
        ulong mustApply = Math.Max(PromiseReadFloor(readTs, request), _unanchorIndex);
        var ready = await WaitReadableAsync(NoKv.Abstractions.Requests.ReadConsistency.Linearizable, TimeSpan.Zero, cancellationToken, mustApply).ConfigureAwait(true);
        if (ready != NoKvErrorCode.Ok)
        {
            return new TxnResponse { Code = ready, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
        }

        if (_node.Term != term || !_node.IsLeader)
        {
            // The promise was this term's; a later leader primed its own floor above it, but this read was not
            // confirmed by it.
            return new TxnResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch, CurrentShards = SelfDescriptor() };
        }

        var shard = Descriptor;
        if (CheckTxn(request, shard) is { } moved)
        {
            return new TxnResponse { Code = moved.Code, Detail = moved.Detail, CurrentEpoch = shard.Epoch };
        }

        if (_stateMachine.Merging is { } merging)
        {
            // Frozen for a merge while the read waited: the target may already serve the range with its own floor.
            return new TxnResponse { Code = NoKvErrorCode.WrongShard, Detail = $"shard {shard.Id} is {merging}", CurrentEpoch = shard.Epoch };
        }

        long now = _host.WallClockMs;
        switch (request.Op)
        {
            case TxnOp.Get:
                var (code, value, held) = _stateMachine.GetAt(request.Key!, request.StartTs, now);
                return new TxnResponse { Code = code, Value = value, Lock = held, CurrentEpoch = shard.Epoch };
            case TxnOp.GetMany:
                var values = new byte[]?[request.Keys!.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    var (manyCode, manyValue, manyLock) = _stateMachine.GetAt(request.Keys[i], request.StartTs, now);
                    if (manyCode != NoKvErrorCode.Ok)
                    {
                        // The client resolves this lock and asks again for all of them: one answer, one snapshot.
                        return new TxnResponse { Code = manyCode, Lock = manyLock, CurrentEpoch = shard.Epoch };
                    }

                    values[i] = manyValue;
                }

                return new TxnResponse { Code = NoKvErrorCode.Ok, Values = values, CurrentEpoch = shard.Epoch };
            case TxnOp.Scan:
                var (scanCode, entries, hasMore, scanLock) = _stateMachine.Scan(request.Key!, request.End ?? [], request.Limit, request.StartTs, now);
                return new TxnResponse { Code = scanCode, Entries = entries, HasMore = hasMore, Lock = scanLock, ShardEnd = shard.Range.End, CurrentEpoch = shard.Epoch };
            default:
                return ToResponse(_stateMachine.Validate(request.StartTs, request.CommitTs, request.Keys ?? [], request.Ranges ?? [], now), shard);
        }
    }

    /// <summary>
    /// Check-status as a linearizable read: most checks decide nothing (the primary is committed, rolled back or still
    /// live; readers of a committed transaction's secondaries ask exactly this), so they need no log entry, only a read
    /// index. Null when the answer is a rollback to record (or the read could not tell): the caller proposes the
    /// command, whose apply decides again from the state then.
    /// </summary>
    private async Task<TxnResponse?> PeekStatusAsync(TxnRequest request, CancellationToken cancellationToken)
    {
        ulong term = _node.Term;
        var ready = await WaitReadableAsync(NoKv.Abstractions.Requests.ReadConsistency.Linearizable, TimeSpan.Zero, cancellationToken).ConfigureAwait(true);
        if (ready != NoKvErrorCode.Ok)
        {
            return new TxnResponse { Code = ready, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
        }

        var shard = Descriptor;
        if (_node.Term != term || !_node.IsLeader || CheckTxn(request, shard) is not null || _stateMachine.Merging is not null)
        {
            // Not confirmed by this term, or the shard changed meanwhile: the proposal path answers (or refuses) it.
            return null;
        }

        return _stateMachine.PeekStatus(request.PrimaryKey!, request.StartTs, request.RollbackIfAbsent, _host.WallClockMs) is { } result
            ? ToResponse(result, shard)
            : null;
    }

    private (NoKvErrorCode Code, string? Detail)? CheckTxn(TxnRequest request, ShardDescriptor shard)
    {
        if (request.Shard != shard.Id || request.Epoch != shard.Epoch)
        {
            return (NoKvErrorCode.WrongShard, $"request for shard {request.Shard} epoch {request.Epoch}; this replica is shard {shard.Id} {shard.Range} epoch {shard.Epoch}");
        }

        if (request.StartTs <= 0)
        {
            return (NoKvErrorCode.InvalidRange, "a transaction's start timestamp must be positive");
        }

        switch (request.Op)
        {
            case TxnOp.Get:
                return CheckTxnKey(request.Key, shard);
            case TxnOp.GetMany:
                if (request.Keys is not { Length: > 0 } many)
                {
                    return (NoKvErrorCode.InvalidRange, "a multi-key read names no keys");
                }

                foreach (var key in many)
                {
                    if (CheckTxnKey(key, shard) is { } bad)
                    {
                        return bad;
                    }
                }

                return null;
            case TxnOp.Scan:
                if (request.Key is null || request.Limit <= 0 || (!shard.Range.Contains(request.Key) && request.Key.AsSpan().SequenceCompareTo(shard.Range.Start) >= 0))
                {
                    return (NoKvErrorCode.WrongShard, $"scan does not start in shard {shard.Id} {shard.Range}");
                }

                return _limits.CheckRange(request.Key, request.End ?? [], request.Limit) is { } e ? (e.Code, e.Message) : null;
            case TxnOp.Validate:
                return request.CommitTs <= request.StartTs ? (NoKvErrorCode.InvalidRange, "validation needs a commit timestamp after the start") : null;
            case TxnOp.Prewrite or TxnOp.OnePhase or TxnOp.OnePhasePrimary:
                if (request.Mutations is null || (request.Op == TxnOp.Prewrite && (request.PrimaryKey is null || request.LockTtlMs <= 0)))
                {
                    return (NoKvErrorCode.InvalidRange, $"malformed {request.Op}: mutations, primary key and lock TTL are required");
                }

                if (request.Op == TxnOp.OnePhasePrimary && (request.Mutations.Length == 0 || request.PrimaryKey is null || !request.PrimaryKey.AsSpan().SequenceEqual(request.Mutations[0].Key) || request.MinCommitTs < 0))
                {
                    // Its status row goes on the first mutation's key, which is where the other shards' locks send
                    // their resolvers: the two must be the same key.
                    return (NoKvErrorCode.InvalidRange, "malformed OnePhasePrimary: the primary key must be the first mutation's, and the minimum commit timestamp not negative");
                }

                foreach (var m in request.Mutations)
                {
                    if (CheckTxnKey(m.Key, shard) is { } bad)
                    {
                        return bad;
                    }

                    if (m.Value is not null && _limits.CheckValue(m.Value) is { } tooLarge)
                    {
                        return (tooLarge.Code, tooLarge.Message);
                    }
                }

                return null;
            case TxnOp.Commit:
                return request.Keys is null ? (NoKvErrorCode.InvalidRange, "commit names no keys") : null;
            case TxnOp.CommitBatch:
                if (request.Batch is not { Length: > 0 } batch)
                {
                    return (NoKvErrorCode.InvalidRange, "a commit batch names no commits");
                }

                foreach (var commit in batch)
                {
                    if (commit is null || commit.Op != TxnOp.Commit || commit.PrimaryKey is not null || commit.Batch is not null || commit.Shard != request.Shard || commit.Epoch != request.Epoch)
                    {
                        return (NoKvErrorCode.InvalidRange, "a commit batch holds only secondary commits of its own shard and epoch");
                    }

                    if (CheckTxn(commit, shard) is { } bad)
                    {
                        return bad;
                    }
                }

                return null;
            case TxnOp.Rollback:
                return null;
            case TxnOp.CheckStatus:
                return request.PrimaryKey is null ? (NoKvErrorCode.InvalidRange, "check-status names no primary key") : CheckTxnKey(request.PrimaryKey, shard);
            default:
                return (NoKvErrorCode.InvalidRange, $"unknown transaction operation {(byte)request.Op}");
        }
    }

    private (NoKvErrorCode Code, string? Detail)? CheckTxnKey(byte[]? key, ShardDescriptor shard)
    {
        if (key is null || key.Length == 0)
        {
            return (NoKvErrorCode.EmptyKey, "keys must not be empty");
        }

        if (_limits.CheckKey(key) is { } e)
        {
            return (e.Code, e.Message);
        }

        return shard.Range.Contains(key) ? null : (NoKvErrorCode.WrongShard, $"key {KeyFormatter.Format(key)} is not in shard {shard.Id} {shard.Range}");
    }

    private TxnResponse ToResponse(TxnResult result, ShardDescriptor shard) => new()
    {
        Code = result.Code,
        Status = result.Status,
        CommitTs = result.CommitTs,
        Lock = result.Lock,
        ConflictKey = result.ConflictKey,
        Detail = result.Detail,
        CurrentEpoch = shard.Epoch,
        LeaderHint = result.Code == NoKvErrorCode.WrongShard ? LeaderHint() : null,
        CurrentShards = RoutingFor(result.Code),
    };
}
