using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Commands;
using NoKv.Replica.Commands.Txn;
using NoKv.Replica.Mvcc;
using NoKv.Storage;

namespace NoKv.Replica.StateMachine;

/// <summary>
/// The transaction actions (docs/transactions.md): prewrite, commit, rollback, check-status, one-phase commit,
/// read-floor raises and GC as applied commands, and commit-time read validation as a read. Each command is all
/// or nothing: every check runs before anything is staged, so a refused command changes nothing.
/// </summary>
internal sealed partial class ShardStateMachine
{
    /// <summary>Applies <paramref name="data"/> if it is a transaction command; null for any other command.</summary>
    private TxnResult? TryApplyTxn(WriteBatch batch, ReadOnlySpan<byte> data)
    {
        if (!CommandEnvelope.TryReadHeader(data, out var header) || !TxnCommands.IsTxn(header.Type))
        {
            return null;
        }

        return TxnCommands.Decode(header, data) switch
        {
            TxnPrewriteCommand c => Prewrite(batch, c),
            TxnCommitCommand c => Commit(batch, c),
            TxnRollbackCommand c => Rollback(batch, c),
            TxnCheckStatusCommand c => CheckStatus(batch, c),
            TxnOnePhaseCommand c => OnePhase(batch, c),
            TxnRaiseReadTsCommand c => RaiseReadTs(c),
            TxnGcCommand c => CollectGarbage(batch, c.SafePoint, c.ProposedAtMs, c.MaxKeys, c.FromKey, null),
            TxnCollectCommand c => CollectGarbage(batch, c.SafePoint, c.ProposedAtMs, c.MaxKeys, c.FromKey, c),
            TxnUnanchorCommand => Unanchor(),
            TxnAnchorCommand c => Anchor(c),
            var other => throw new CommandFormatException($"Transaction command {other.GetType().Name} has no apply."),
        };
    }

    private TxnResult? CheckKeys(long epoch, IEnumerable<byte[]> keys)
    {
        if (epoch != Applying.Epoch)
        {
            return new TxnResult(NoKvErrorCode.WrongShard, Detail: $"epoch {epoch} is not shard {_shard.Id}'s {Applying.Epoch}");
        }

        foreach (var key in keys)
        {
            if (key.Length == 0 || !Applying.Range.Contains(key))
            {
                return new TxnResult(NoKvErrorCode.WrongShard, Detail: $"key {KeyFormatter.Format(key)} is not in shard {_shard.Id} {_shard.Range}");
            }
        }

        return null;
    }

    private static IEnumerable<byte[]> KeysOf(TxnMutation[] mutations)
    {
        foreach (var m in mutations)
        {
            yield return m.Key;
        }
    }

    private TxnResult Prewrite(WriteBatch batch, TxnPrewriteCommand c)
    {
        if (CheckKeys(c.Epoch, KeysOf(c.Mutations)) is { } refused)
        {
            return refused;
        }

        if ((RefuseUnanchoredOrOld(c.StartTs) ?? RefuseBelowLockFloor(c.StartTs)) is { } tooOld)
        {
            return tooOld;
        }

        bool holdsPrimary = false;
        foreach (var m in c.Mutations)
        {
            if (m.Key.AsSpan().SequenceEqual(c.PrimaryKey))
            {
                holdsPrimary = true;
            }
        }

        if (holdsPrimary && StatusOf(c.PrimaryKey, c.StartTs) is { } decided)
        {
            // A retried or delayed prewrite after the transaction was decided: a rolled-back one must never lock
            // again; a committed one has nothing left to do.
            return decided.State == TxnState.Committed ? new TxnResult(NoKvErrorCode.Ok, TxnStatus.Committed, decided.CommitTs)
                : new TxnResult(NoKvErrorCode.TxnAborted, TxnStatus.RolledBack, Detail: "the transaction was rolled back");
        }

        foreach (var m in c.Mutations)
        {
            if (LockOf(m.Key) is { } held)
            {
                if (held.StartTs == c.StartTs)
                {
                    continue;
                }

                return TxnResult.Locked(LockInfo(m.Key, held, c.ProposedAtMs));
            }

            if (NewestVersion(m.Key) is { } newest && newest.Ts > c.StartTs)
            {
                return TxnResult.Conflict(m.Key, $"key {KeyFormatter.Format(m.Key)} has a version at {newest.Ts}, after the transaction's start {c.StartTs}");
            }
        }

        foreach (var m in c.Mutations)
        {
            if (LockOf(m.Key) is null)
            {
                StageLock(batch, m.Key, new TxnLock(m.Value is null ? TxnLockKind.Delete : TxnLockKind.Put, c.StartTs, c.ProposedAtMs, c.TtlMs, c.PrimaryKey, m.Value));
            }
        }

        return TxnResult.Ok;
    }

    private TxnResult Commit(WriteBatch batch, TxnCommitCommand c)
    {
        if (CheckKeys(c.Epoch, c.Keys) is { } refused)
        {
            return refused;
        }

        if (c.CommitTs <= c.StartTs)
        {
            return new TxnResult(NoKvErrorCode.InvalidRange, Detail: $"commit timestamp {c.CommitTs} is not after the start {c.StartTs}");
        }

        if (c.PrimaryKey is { } primary)
        {
            var held = LockOf(primary);
            if (held is null || held.StartTs != c.StartTs)
            {
                return StatusOf(primary, c.StartTs) switch
                {
                    { State: TxnState.Committed } done => new TxnResult(NoKvErrorCode.Ok, TxnStatus.Committed, done.CommitTs),
                    null when Collected(c.StartTs) is { } gone => gone,
                    _ => new TxnResult(NoKvErrorCode.TxnAborted, TxnStatus.RolledBack, Detail: "the transaction's primary lock is gone: it was rolled back"),
                };
            }
        }

        foreach (var key in c.Keys)
        {
            if (LockOf(key) is { } held && held.StartTs == c.StartTs)
            {
                StageVersion(batch, key, c.CommitTs, held.Kind == TxnLockKind.Put ? VersionRecord.Put(held.Value ?? []) : VersionRecord.Tombstone);
                StageLock(batch, key, null);
                if (key.AsSpan().SequenceEqual(held.PrimaryKey))
                {
                    StageStatus(batch, key, c.StartTs, new TxnStatusRecord(TxnState.Committed, c.CommitTs));
                }
            }
        }

        return new TxnResult(NoKvErrorCode.Ok, TxnStatus.Committed, c.CommitTs);
    }

    private TxnResult Rollback(WriteBatch batch, TxnRollbackCommand c)
    {
        if (CheckKeys(c.Epoch, c.PrimaryKey is null ? c.Keys : c.Keys.Append(c.PrimaryKey)) is { } refused)
        {
            return refused;
        }

        if (c.PrimaryKey is { } primary)
        {
            switch (StatusOf(primary, c.StartTs))
            {
                case { State: TxnState.Committed } done:
                    return new TxnResult(NoKvErrorCode.Ok, TxnStatus.Committed, done.CommitTs);
                case null when Collected(c.StartTs) is { } gone:
                    // No lock of the transaction exists anywhere, and its outcome is no longer recorded: recording
                    // "rolled back" now could contradict a commit whose row was collected.
                    return gone;
                case null:
                    StageStatus(batch, primary, c.StartTs, new TxnStatusRecord(TxnState.RolledBack, 0));
                    break;
            }

            if (LockOf(primary) is { } held && held.StartTs == c.StartTs)
            {
                StageLock(batch, primary, null);
            }
        }

        foreach (var key in c.Keys)
        {
            if (LockOf(key) is { } held && held.StartTs == c.StartTs)
            {
                StageLock(batch, key, null);
            }
        }

        return new TxnResult(NoKvErrorCode.Ok, TxnStatus.RolledBack);
    }

    private TxnResult CheckStatus(WriteBatch batch, TxnCheckStatusCommand c)
    {
        if (CheckKeys(c.Epoch, [c.PrimaryKey]) is { } refused)
        {
            return refused;
        }

        if (DecidedStatus(c.PrimaryKey, c.StartTs, c.RollbackIfAbsent, c.ProposedAtMs) is { } answer)
        {
            return answer;
        }

        if (LockOf(c.PrimaryKey) is { } held && held.StartTs == c.StartTs)
        {
            StageLock(batch, c.PrimaryKey, null);
        }

        StageStatus(batch, c.PrimaryKey, c.StartTs, new TxnStatusRecord(TxnState.RolledBack, 0));
        return new TxnResult(NoKvErrorCode.Ok, TxnStatus.RolledBack);
    }

    /// <summary>
    /// Check-status answered from applied state without a log entry (the leader serves it after a read index), or null
    /// when the answer is a decision to record: rolling back an expired primary lock, or a primary with neither lock
    /// nor status when the caller saw the transaction's other lock expire.
    /// </summary>
    public TxnResult? PeekStatus(byte[] primaryKey, long startTs, bool rollbackIfAbsent, long nowMs) =>
        DecidedStatus(primaryKey, startTs, rollbackIfAbsent, nowMs);

    /// <summary>
    /// What check-status answers when it changes nothing: a recorded decision (final), a live primary lock (the caller
    /// waits; its age is measured on this group's leader clock, as at apply), or "unknown" (the caller may not roll it
    /// back). Null when a rollback must be recorded.
    /// </summary>
    private TxnResult? DecidedStatus(byte[] primaryKey, long startTs, bool rollbackIfAbsent, long nowMs)
    {
        switch (StatusOf(primaryKey, startTs))
        {
            case { State: TxnState.Committed } done:
                return new TxnResult(NoKvErrorCode.Ok, TxnStatus.Committed, done.CommitTs);
            case { State: TxnState.RolledBack }:
                return new TxnResult(NoKvErrorCode.Ok, TxnStatus.RolledBack);
        }

        var held = LockOf(primaryKey);
        if (held is not null && held.StartTs == startTs)
        {
            return held.IsExpiredAt(nowMs) ? null : new TxnResult(NoKvErrorCode.Ok, TxnStatus.Locked, Lock: LockInfo(primaryKey, held, nowMs));
        }

        if (startTs < _stagedFloor.StatusFloor)
        {
            // Below the status floor no lock of the transaction exists on any shard, so the lock the caller met is
            // gone (resolved since); its outcome may have been collected. Never decide it now: "unknown" makes the
            // caller read again, and it finds no lock.
            return new TxnResult(NoKvErrorCode.Ok, TxnStatus.Unknown, Detail: $"start {startTs} is below the status floor {_stagedFloor.StatusFloor}: the transaction holds no lock any more");
        }

        return rollbackIfAbsent ? null : new TxnResult(NoKvErrorCode.Ok, TxnStatus.Unknown);
    }

    private TxnResult OnePhase(WriteBatch batch, TxnOnePhaseCommand c)
    {
        if (CheckKeys(c.Epoch, KeysOf(c.Mutations).Concat(c.ReadKeys)) is { } refused)
        {
            return refused;
        }

        // A retry of a one-phase commit that applied (its reply was lost) must not be judged against its own
        // versions: the first write key carries the transaction's status, like a primary. Checked before the safe
        // point, which an anchor or GC may have raised past the start since: the answer must still be "committed".
        switch (c.Mutations.Length > 0 ? StatusOf(c.Mutations[0].Key, c.StartTs) : null)
        {
            case { State: TxnState.Committed } done:
                return new TxnResult(NoKvErrorCode.Ok, TxnStatus.Committed, done.CommitTs);
            case { State: TxnState.RolledBack } when c.MinCommitTs is not null:
                // The primary of a transaction whose other shards hold locks: a resolver that saw one of them expire (or
                // the client giving up) recorded it rolled back, and those locks are being removed on that word.
                return new TxnResult(NoKvErrorCode.TxnAborted, TxnStatus.RolledBack, Detail: "the transaction was rolled back");
        }

        if ((RefuseUnanchoredOrOld(c.StartTs) ?? RefuseBelowLockFloor(c.StartTs)) is { } tooOld)
        {
            return tooOld;
        }

        // Applied atomically, so reads and writes are checked against everything up to this very commit: any lock
        // (its transaction may commit below us), or any version after the start, is a conflict.
        foreach (var key in KeysOf(c.Mutations).Concat(c.ReadKeys))
        {
            if (LockOf(key) is { } held)
            {
                return TxnResult.Locked(LockInfo(key, held, c.ProposedAtMs));
            }

            if (NewestVersion(key) is { } newest && newest.Ts > c.StartTs)
            {
                return TxnResult.Conflict(key, $"key {KeyFormatter.Format(key)} changed at {newest.Ts}, after the transaction's start {c.StartTs}");
            }
        }

        if (ValidateRanges(c.Ranges, c.StartTs, long.MaxValue, c.StartTs, c.ProposedAtMs) is { } rangeConflict)
        {
            return rangeConflict;
        }

        // Above the start too: the transaction read the snapshot at its start, so it serializes after it. As a primary,
        // also above every snapshot its other shards served without meeting their locks (MinCommitTs).
        long commitTs = NextTimestamp(c.ProposedAtMs, Math.Max(c.StartTs, c.MinCommitTs ?? 0));
        foreach (var m in c.Mutations)
        {
            StageVersion(batch, m.Key, commitTs, m.Value is null ? VersionRecord.Tombstone : VersionRecord.Put(m.Value));
        }

        if (c.Mutations.Length > 0)
        {
            StageStatus(batch, c.Mutations[0].Key, c.StartTs, new TxnStatusRecord(TxnState.Committed, commitTs));
        }

        return new TxnResult(NoKvErrorCode.Ok, TxnStatus.Committed, commitTs);
    }

    /// <summary>
    /// SnapshotTooOld for a transaction that started below the safe point, or for any while the shard is unanchored
    /// (it may hold plain writes at or below the start that the transaction's reads elsewhere did not see, or that a
    /// snapshot served before they landed did not hold; see <see cref="Anchor"/>). The transaction aborts and its
    /// retry starts above the anchor.
    /// </summary>
    private TxnResult? RefuseUnanchoredOrOld(long startTs)
    {
        if (_stagedFloor.Unanchored)
        {
            return new TxnResult(NoKvErrorCode.SnapshotTooOld, Detail: $"shard {_shard.Id} holds plain writes not yet anchored in the oracle; retry with a new start timestamp");
        }

        return startTs < _stagedFloor.SafePoint
            ? new TxnResult(NoKvErrorCode.SnapshotTooOld, Detail: $"start {startTs} is below the safe point {_stagedFloor.SafePoint}")
            : null;
    }

    /// <summary>
    /// SnapshotTooOld for a transaction that started below the lock floor: a GC round has promised (and maybe reported
    /// to the controller) that no lock below it will appear here, which the collection of status rows relies on.
    /// </summary>
    private TxnResult? RefuseBelowLockFloor(long startTs) =>
        startTs < _stagedFloor.LockFloor
            ? new TxnResult(NoKvErrorCode.SnapshotTooOld, Detail: $"start {startTs} is below the lock floor {_stagedFloor.LockFloor}")
            : null;

    /// <summary>
    /// The answer about a transaction below the status floor whose status row is absent: it holds no lock anywhere and
    /// its outcome may have been collected, so it is reported as no longer known (SnapshotTooOld), never as rolled back.
    /// Null at or above the floor.
    /// </summary>
    private TxnResult? Collected(long startTs) =>
        startTs < _stagedFloor.StatusFloor
            ? new TxnResult(NoKvErrorCode.SnapshotTooOld, TxnStatus.Unknown, Detail: $"start {startTs} is below the status floor {_stagedFloor.StatusFloor}: the transaction's outcome is no longer recorded")
            : null;

    private TxnResult Unanchor()
    {
        _stagedFloor = _stagedFloor with { Unanchored = true };
        return TxnResult.Ok;
    }

    /// <summary>
    /// Clears the unanchored mark when the oracle block covers every version the shard holds, and refuses every start
    /// below the block from then on (docs/transactions.md, "Plain writes without the oracle").
    /// </summary>
    private TxnResult Anchor(TxnAnchorCommand c)
    {
        if (_stagedFloor.Unanchored && _stagedFloor.MaxTs <= c.Last && c.First <= c.Last)
        {
            _stagedFloor = _stagedFloor with { Unanchored = false, SafePoint = Math.Max(_stagedFloor.SafePoint, c.First) };
        }

        return TxnResult.Ok;
    }

    private TxnResult RaiseReadTs(TxnRaiseReadTsCommand c)
    {
        if (c.ReadTs > _stagedFloor.ReadTs)
        {
            _stagedFloor = _stagedFloor with { ReadTs = c.ReadTs };
        }

        return TxnResult.Ok;
    }

    /// <summary>
    /// Checks that nothing a transaction read at <paramref name="startTs"/> changed up to <paramref name="commitTs"/>:
    /// no version of a read key or in a read range after the start and at or before the commit timestamp, and no
    /// lock there of another transaction that started before the commit timestamp (it may still commit below it).
    /// REQUIRES: the read floor is at least commitTs, so nothing can later commit at or below it unseen here.
    /// </summary>
    public TxnResult Validate(long startTs, long commitTs, byte[][] keys, TxnKeyRange[] ranges, long nowMs)
    {
        if (_floor.Unanchored || startTs < _floor.SafePoint)
        {
            // The reads being validated were served at startTs, possibly before an unanchored write landed at or below
            // it (or below a GC'd version): no version check here could tell.
            return new TxnResult(NoKvErrorCode.SnapshotTooOld, Detail: _floor.Unanchored ? $"shard {_shard.Id} holds plain writes not yet anchored in the oracle" : $"start {startTs} is below the safe point {_floor.SafePoint}");
        }

        foreach (var key in keys)
        {
            if (!_shard.Range.Contains(key))
            {
                return new TxnResult(NoKvErrorCode.WrongShard, Detail: $"key {KeyFormatter.Format(key)} is not in shard {_shard.Id} {_shard.Range}");
            }

            if (_db.Get(MvccKeys.Lock(_dataPrefix, key)) is { } row && TxnLock.Decode(row) is { } held && held.StartTs != startTs && held.StartTs < commitTs)
            {
                return TxnResult.Conflict(key, $"key {KeyFormatter.Format(key)} is locked by transaction {held.StartTs}");
            }

            if (VersionAt(MvccKeys.Base(_dataPrefix, key), key, commitTs) is { } v && v.Ts > startTs)
            {
                return TxnResult.Conflict(key, $"key {KeyFormatter.Format(key)} changed at {v.Ts}, after the read at {startTs}");
            }
        }

        return ValidateRanges(ranges, startTs, commitTs, startTs, nowMs) ?? TxnResult.Ok;
    }

    /// <summary>Range part of validation: a version in (startTs, commitTs] or a foreign lock started before commitTs.</summary>
    private TxnResult? ValidateRanges(TxnKeyRange[] ranges, long startTs, long commitTs, long ownStartTs, long nowMs)
    {
        foreach (var range in ranges)
        {
            var (lower, upper) = ClipToShard(range.Start, range.End);
            if (lower.AsSpan().SequenceCompareTo(upper) >= 0)
            {
                continue;
            }

            using var it = _db.NewIterator(new Storage.ReadOptions { LowerBound = lower, UpperBound = upper });
            for (it.Seek(lower); it.Valid; it.Next())
            {
                if (!MvccKeys.TryParse(it.Key, out int baseLength, out byte tag, out long ts))
                {
                    throw new InvalidDataException($"Shard {_shard.Id}: data row {Convert.ToHexString(it.Key)} is not an MVCC row.");
                }

                if (tag == MvccKeys.LockTag && TxnLock.Decode(it.Value) is { } held && held.StartTs != ownStartTs && held.StartTs < commitTs)
                {
                    var key = MvccKeys.UserKey(it.Key, baseLength);
                    return TxnResult.Conflict(key, $"scanned key {KeyFormatter.Format(key)} is locked by transaction {held.StartTs}");
                }

                if (tag == MvccKeys.VersionTag && ts > startTs && ts <= commitTs)
                {
                    var key = MvccKeys.UserKey(it.Key, baseLength);
                    return TxnResult.Conflict(key, $"scanned range changed at {ts} (key {KeyFormatter.Format(key)}), after the read at {startTs}");
                }
            }
        }

        // Pending (same-batch) versions only matter to one-phase commits, whose range is checked in the apply.
        foreach (var range in ranges)
        {
            foreach (var (baseKey, pending) in _pendingVersions)
            {
                if (pending.Ts > startTs && InRange(baseKey, range))
                {
                    return TxnResult.Conflict(range.Start, "scanned range changed in the same batch");
                }
            }
        }

        _ = nowMs;
        return null;
    }

    private bool InRange(byte[] baseKey, TxnKeyRange range)
    {
        var (lower, upper) = ClipToShard(range.Start, range.End);
        return baseKey.AsSpan().SequenceCompareTo(lower) >= 0 && baseKey.AsSpan().SequenceCompareTo(upper) < 0;
    }

    /// <summary>Locks below the lock floor one collect slice reports for resolution, at most.</summary>
    private const int MaxOldLocksPerSlice = 64;

    /// <summary>
    /// One slice of GC (<see cref="TxnGcCommand"/>, or <see cref="TxnCollectCommand"/> when <paramref name="collect"/>
    /// is set: also the lock floor, the slice's locks and status rows); the payload's NextKey is where the next slice
    /// starts (null: done).
    /// </summary>
    private TxnResult CollectGarbage(WriteBatch batch, long safePointAsked, long proposedAtMs, int maxKeys, byte[] fromKey, TxnCollectCommand? collect)
    {
        if (safePointAsked > _stagedFloor.SafePoint)
        {
            // Never above what the shard may still be asked to read at: the read floor bounds live snapshots from above
            // only, so the proposer picks the safe point; raising it here makes reads below it fail from now on.
            _stagedFloor = _stagedFloor with { SafePoint = safePointAsked };
        }

        long statusFloor = 0;
        if (collect is not null)
        {
            if (collect.LockFloor > _stagedFloor.LockFloor)
            {
                _stagedFloor = _stagedFloor with { LockFloor = collect.LockFloor };
            }

            // The cluster's point says no lock below it exists anywhere; capped by this shard's own lock floor so the
            // floor never claims more than this shard promises itself (a point computed before a split or merge).
            long raised = Math.Min(collect.StatusBelow, _stagedFloor.LockFloor);
            if (raised > _stagedFloor.StatusFloor)
            {
                _stagedFloor = _stagedFloor with { StatusFloor = raised };
            }

            statusFloor = _stagedFloor.StatusFloor;
        }

        long safePoint = _stagedFloor.SafePoint;
        long oldestLock = long.MaxValue;
        List<TxnLockInfo>? oldLocks = null;
        int statusRows = 0;
        if (collect is not null)
        {
            // Locks staged earlier in this apply batch are not in the engine yet and were checked against the lock
            // floor before this entry raised it: count them all, wherever they lie (conservative: the report is a lower
            // bound either way).
            foreach (var pending in _pendingTxnLocks.Values)
            {
                if (pending is not null)
                {
                    oldestLock = Math.Min(oldestLock, pending.StartTs);
                }
            }
        }

        var (lower, upper) = ClipToShard(fromKey, ReadOnlySpan<byte>.Empty);
        using var it = _db.NewIterator(new Storage.ReadOptions { LowerBound = lower, UpperBound = upper });
        byte[]? currentBase = null;
        bool keptBelow = false;
        int keys = 0;
        byte[]? next = null;
        for (it.Seek(lower); it.Valid; it.Next())
        {
            if (!MvccKeys.TryParse(it.Key, out int baseLength, out byte tag, out long ts))
            {
                throw new InvalidDataException($"Shard {_shard.Id}: data row {Convert.ToHexString(it.Key)} is not an MVCC row.");
            }

            if (currentBase is null || !it.Key[..baseLength].SequenceEqual(currentBase))
            {
                if (keys == maxKeys)
                {
                    next = MvccKeys.UserKey(it.Key, baseLength);
                    break;
                }

                currentBase = it.Key[..baseLength].ToArray();
                keptBelow = false;
                keys++;
            }

            if (collect is not null && tag == MvccKeys.LockTag)
            {
                var held = TxnLock.Decode(it.Value);
                oldestLock = Math.Min(oldestLock, held.StartTs);
                if (held.StartTs < _stagedFloor.LockFloor && (oldLocks ??= []).Count < MaxOldLocksPerSlice)
                {
                    oldLocks.Add(LockInfo(MvccKeys.UserKey(it.Key, baseLength), held, proposedAtMs));
                }

                continue;
            }

            if (collect is not null && tag == MvccKeys.StatusTag)
            {
                if (ts < statusFloor)
                {
                    batch.Delete(it.Key);
                    statusRows++;
                }

                continue;
            }

            if (tag != MvccKeys.VersionTag || ts > safePoint)
            {
                continue;
            }

            if (!keptBelow)
            {
                // The newest version at or below the safe point is what every allowed read sees; keep it unless it
                // shows nothing (a tombstone, or expired), in which case nothing older can matter either.
                keptBelow = true;
                if (VersionRecord.Decode(it.Value).IsLive(proposedAtMs))
                {
                    continue;
                }
            }

            batch.Delete(it.Key);
        }

        return new TxnResult(NoKvErrorCode.Ok, NextKey: next)
        {
            Epoch = Applying.Epoch,
            OldestLockTs = oldestLock,
            OldLocks = oldLocks,
            StatusRowsCollected = statusRows,
        };
    }

    private static TxnLockInfo LockInfo(byte[] userKey, TxnLock held, long nowMs) =>
        new(userKey, held.PrimaryKey, held.StartTs, held.TtlMs, Math.Max(0, nowMs - held.CreatedAtMs));
}
