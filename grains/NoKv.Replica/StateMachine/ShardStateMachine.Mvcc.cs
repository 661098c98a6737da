using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Transactions;
using NoKv.Replica.Layout;
using NoKv.Replica.Mvcc;
using NoKv.Storage;

namespace NoKv.Replica.StateMachine;

/// <summary>
/// The MVCC layer of the shard's data (docs/format-data-rows.md, docs/transactions.md): reads of the latest
/// value and of a snapshot at a timestamp, and the staging of locks, versions and transaction status rows by
/// applies. Entries applied in one batch see each other's effects through the pending overlays, which hold
/// the newest staged row per key until the batch is written.
/// </summary>
internal sealed partial class ShardStateMachine
{
    /// <summary>Logical timestamp bits below the milliseconds of a timestamp (the oracle's format).</summary>
    public const int LogicalBits = 18;

    private readonly Dictionary<byte[], TxnLock?> _pendingTxnLocks = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], (long Ts, VersionRecord Record)> _pendingVersions = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], TxnStatusRecord> _pendingStatus = new(ByteArrayComparer.Instance);
    private MvccFloor _floor;
    private MvccFloor _stagedFloor;

    /// <summary>The shard's timestamp floor as of the applied index.</summary>
    public MvccFloor Floor => _floor;

    private void LoadFloor(bool replace = false)
    {
        var stored = _db.Get(MvccKeys.Floor(_dataPrefix, _shard.Range.Start)) is { } row ? MvccFloor.Decode(row) : default;
        _floor = replace ? stored : _floor.Combine(stored);
        _stagedFloor = _floor;
    }

    private void BeginMvccStage()
    {
        _pendingTxnLocks.Clear();
        _pendingVersions.Clear();
        _pendingStatus.Clear();
        _stagedFloor = _floor;
    }

    private void StageFloor(WriteBatch batch)
    {
        if (_stagedFloor != _floor)
        {
            batch.Put(MvccKeys.Floor(_dataPrefix, (_stagedShard ?? _shard).Range.Start), _stagedFloor.Encode());
        }
    }

    private void CompleteMvccStage()
    {
        _floor = _stagedFloor;
        _pendingTxnLocks.Clear();
        _pendingVersions.Clear();
        _pendingStatus.Clear();
    }

    /// <summary>
    /// The commit timestamp of a version the shard stamps itself (a plain write, a one-phase commit): just above
    /// every snapshot the shard may have served (the read floor) and every version it holds. Both are oracle
    /// timestamps (or stamps derived from them), so the stamp does not run ahead of the oracle: a transaction that
    /// starts after the write completes gets a larger start timestamp and sees it. (Not the proposer's clock: a
    /// clock ahead of the oracle's would stamp versions that later snapshots miss.)
    /// </summary>
    private long NextTimestamp(long proposedAtMs, long atLeast = 0)
    {
        _ = proposedAtMs;
        long ts = Math.Max(Math.Max(_stagedFloor.ReadTs, _stagedFloor.MaxTs), atLeast) + 1;
        _stagedFloor = _stagedFloor with { MaxTs = ts };
        return ts;
    }

    private TxnLock? LockOf(byte[] userKey)
    {
        var key = MvccKeys.Lock(_dataPrefix, userKey);
        if (_pendingTxnLocks.TryGetValue(key, out var pending))
        {
            return pending;
        }

        return _db.Get(key) is { } row ? TxnLock.Decode(row) : null;
    }

    private void StageLock(WriteBatch batch, byte[] userKey, TxnLock? value)
    {
        var key = MvccKeys.Lock(_dataPrefix, userKey);
        _pendingTxnLocks[key] = value;
        if (value is null)
        {
            batch.Delete(key);
        }
        else
        {
            batch.Put(key, value.Encode());
        }
    }

    private TxnStatusRecord? StatusOf(byte[] primaryKey, long startTs)
    {
        var key = MvccKeys.Status(_dataPrefix, primaryKey, startTs);
        if (_pendingStatus.TryGetValue(key, out var pending))
        {
            return pending;
        }

        return _db.Get(key) is { } row ? TxnStatusRecord.Decode(row) : null;
    }

    private void StageStatus(WriteBatch batch, byte[] primaryKey, long startTs, TxnStatusRecord status)
    {
        var key = MvccKeys.Status(_dataPrefix, primaryKey, startTs);
        _pendingStatus[key] = status;
        batch.Put(key, status.Encode());
    }

    private void StageVersion(WriteBatch batch, byte[] userKey, long commitTs, VersionRecord record)
    {
        _pendingVersions[MvccKeys.Base(_dataPrefix, userKey)] = (commitTs, record);
        batch.Put(MvccKeys.Version(_dataPrefix, userKey, commitTs), record.Encode());
        if (commitTs > _stagedFloor.MaxTs)
        {
            _stagedFloor = _stagedFloor with { MaxTs = commitTs };
        }
    }

    /// <summary>The newest version of <paramref name="userKey"/> (staged or written), or null when it has none.</summary>
    private (long Ts, VersionRecord Record)? NewestVersion(byte[] userKey)
    {
        var baseKey = MvccKeys.Base(_dataPrefix, userKey);
        if (_pendingVersions.TryGetValue(baseKey, out var pending))
        {
            return pending;
        }

        return VersionAt(baseKey, userKey, long.MaxValue);
    }

    /// <summary>The newest written version of a key at or below <paramref name="ts"/>.</summary>
    private (long Ts, VersionRecord Record)? VersionAt(byte[] baseKey, ReadOnlySpan<byte> userKey, long ts)
    {
        var lower = MvccKeys.Version(_dataPrefix, userKey, ts);
        var upper = new byte[baseKey.Length + 1];
        baseKey.CopyTo(upper, 0);
        upper[^1] = MvccKeys.VersionTag + 1;
        using var it = _db.NewIterator(new ReadOptions { LowerBound = lower, UpperBound = upper });
        it.Seek(lower);
        if (!it.Valid)
        {
            return null;
        }

        if (!MvccKeys.TryParse(it.Key, out _, out byte tag, out long versionTs) || tag != MvccKeys.VersionTag)
        {
            throw new InvalidDataException($"Shard {_shard.Id}: data row {Convert.ToHexString(it.Key)} is not an MVCC version row.");
        }

        return (versionTs, VersionRecord.Decode(it.Value));
    }

    /// <summary>
    /// A plain (linearizable) read: the newest version's value, unless a transaction holds a lock on the key, whose
    /// outcome the reader must learn first (a committed transaction's secondary may still be locked).
    /// </summary>
    public (NoKvErrorCode Code, byte[]? Value, TxnLockInfo? Lock) Read(byte[] userKey, long nowMs)
    {
        var (code, value, _, held) = ReadWithExpiry(userKey, nowMs);
        return (code, value, held);
    }

    /// <summary>
    /// <see cref="Read"/> with the value's expiry (Unix ms, 0 = never). A version whose expiry is at or before
    /// <paramref name="nowMs"/> (the serving leader's clock) is absent, and so is the key: an older version never
    /// shows through an expired newer one.
    /// </summary>
    public (NoKvErrorCode Code, byte[]? Value, long ExpiresAtMs, TxnLockInfo? Lock) ReadWithExpiry(byte[] userKey, long nowMs)
    {
        if (_db.Get(MvccKeys.Lock(_dataPrefix, userKey)) is { } lockRow)
        {
            return (NoKvErrorCode.KeyLocked, null, 0, LockInfo(userKey, TxnLock.Decode(lockRow), nowMs));
        }

        var version = VersionAt(MvccKeys.Base(_dataPrefix, userKey), userKey, long.MaxValue);
        return version is { } v && v.Record.IsLive(nowMs)
            ? (NoKvErrorCode.Ok, v.Record.Value, v.Record.ExpiresAtMs, null)
            : (NoKvErrorCode.Ok, null, 0, null);
    }

    /// <summary>The newest value of <paramref name="userKey"/> ignoring locks and expiry (for tests and tools).</summary>
    public byte[]? Get(byte[] userKey) =>
        VersionAt(MvccKeys.Base(_dataPrefix, userKey), userKey, long.MaxValue) is { Record.Deleted: false } v ? v.Record.Value : null;

    /// <summary>
    /// A snapshot read at <paramref name="ts"/>. A lock of a transaction that started at or before ts may commit
    /// below ts, so the reader must resolve it; later transactions' locks commit above ts and are ignored.
    /// REQUIRES: the shard's read floor is at least ts (the caller raised it), so this answer never changes.
    /// </summary>
    public (NoKvErrorCode Code, byte[]? Value, TxnLockInfo? Lock) GetAt(byte[] userKey, long ts, long nowMs)
    {
        if (ts < _floor.SafePoint || _floor.Unanchored)
        {
            // Unanchored: a plain write may have landed at or below ts after a read at ts was served (docs/transactions.md).
            return (NoKvErrorCode.SnapshotTooOld, null, null);
        }

        if (_db.Get(MvccKeys.Lock(_dataPrefix, userKey)) is { } lockRow && TxnLock.Decode(lockRow) is { } held && held.StartTs <= ts)
        {
            return (NoKvErrorCode.KeyLocked, null, LockInfo(userKey, held, nowMs));
        }

        var version = VersionAt(MvccKeys.Base(_dataPrefix, userKey), userKey, ts);
        return (NoKvErrorCode.Ok, version is { } v && v.Record.IsLive(nowMs) ? v.Record.Value : null, null);
    }

    /// <summary>
    /// Keys in [start, end) ∩ shard range with a live value at <paramref name="ts"/> (long.MaxValue: the newest),
    /// ascending, at most <paramref name="limit"/>; HasMore if the range holds more. Stops at the first lock that
    /// the read must resolve (for the newest: any lock; at a timestamp: locks of transactions started at or before it).
    /// </summary>
    public (NoKvErrorCode Code, KvEntry[] Entries, bool HasMore, TxnLockInfo? Lock) Scan(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, int limit, long ts, long nowMs)
    {
        if (ts != long.MaxValue && (ts < _floor.SafePoint || _floor.Unanchored))
        {
            return (NoKvErrorCode.SnapshotTooOld, [], false, null);
        }

        var (lower, upper) = ClipToShard(start, end);
        var entries = new List<KvEntry>(Math.Min(limit, 256));
        using var it = _db.NewIterator(new ReadOptions { LowerBound = lower, UpperBound = upper });
        it.Seek(lower);
        while (it.Valid)
        {
            if (!MvccKeys.TryParse(it.Key, out int baseLength, out byte tag, out long rowTs))
            {
                throw new InvalidDataException($"Shard {_shard.Id}: data row {Convert.ToHexString(it.Key)} is not an MVCC row.");
            }

            var baseKey = it.Key[..baseLength].ToArray();
            if (tag == MvccKeys.LockTag)
            {
                var held = TxnLock.Decode(it.Value);
                if (ts == long.MaxValue || held.StartTs <= ts)
                {
                    return (NoKvErrorCode.KeyLocked, [], false, LockInfo(MvccKeys.UserKey(it.Key, baseLength), held, nowMs));
                }

                it.Next();
                continue;
            }

            if (tag != MvccKeys.VersionTag || rowTs > ts)
            {
                it.Next();
                continue;
            }

            // The newest version at or below ts: this key's answer; skip its older versions.
            var record = VersionRecord.Decode(it.Value);
            if (record.IsLive(nowMs))
            {
                if (entries.Count == limit)
                {
                    return (NoKvErrorCode.Ok, entries.ToArray(), true, null);
                }

                entries.Add(new KvEntry(MvccKeys.UserKey(it.Key, baseLength), record.Value!));
            }

            it.Seek(MvccKeys.AfterBase(baseKey));
        }

        return (NoKvErrorCode.Ok, entries.ToArray(), false, null);
    }

    private (byte[] Lower, byte[] Upper) ClipToShard(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
    {
        byte[] lower = start.SequenceCompareTo(_shard.Range.Start) > 0 ? KeySpace.DataKey(_dataPrefix, start) : _dataStart;
        byte[] upper = _dataEnd;
        if (!end.IsEmpty)
        {
            var requested = KeySpace.DataKey(_dataPrefix, end);
            if (requested.AsSpan().SequenceCompareTo(upper) < 0)
            {
                upper = requested;
            }
        }

        return (lower, upper);
    }
}
