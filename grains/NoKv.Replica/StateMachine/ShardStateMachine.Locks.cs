using System.Buffers.Binary;
using NoKv.Abstractions.Errors;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Layout;
using NoKv.Replica.Snapshots;
using NoKv.Storage;

namespace NoKv.Replica.StateMachine;

/// <summary>
/// The lock service's part of the shard state machine (docs/locks.md): lock records (token counter, holder, FIFO
/// queue) under <c>0x05 | name</c>, and the fence rows that fenced writes to this shard check and raise. Every
/// decision here is a function of the log alone: leases are timed by the leader's replica core, which proposes
/// <see cref="CommandType.ExpireLock"/> when its clock says one ran out; applying it only compares tokens and
/// lease sequences.
/// </summary>
internal sealed partial class ShardStateMachine
{
    // Lock records and fence tokens changed by the staged apply (what reads within it must see).
    private readonly Dictionary<byte[], LockRecord> _pendingLocks = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], long> _pendingFences = new(ByteArrayComparer.Instance);
    private readonly List<byte[]> _appliedLockChanges = new();

    /// <summary>
    /// Names of the locks whose record changed in applies completed since the core last took them (grants,
    /// releases, queue changes, renewals), in apply order; the core times leases and wakes waiting callers with them.
    /// </summary>
    public List<byte[]> TakeLockChanges()
    {
        if (_appliedLockChanges.Count == 0)
        {
            return [];
        }

        var changes = new List<byte[]>(_appliedLockChanges);
        _appliedLockChanges.Clear();
        return changes;
    }

    /// <summary>True when a snapshot replaced the lock records since the core last asked (it must re-read them all).</summary>
    public bool TakeLocksReplaced()
    {
        bool replaced = _locksReplaced;
        _locksReplaced = false;
        return replaced;
    }

    private bool _locksReplaced;

    /// <summary>Lock <paramref name="name"/>'s record as of the applied index, or null if it was never used.</summary>
    public LockRecord? ReadLock(ReadOnlySpan<byte> name) =>
        _db.Get(KeySpace.LockKey(name)) is { } value ? LockRecord.Decode(value) : null;

    /// <summary>Every lock record in the shard's range that has a holder or waiters, as of the applied index.</summary>
    public List<(byte[] Name, LockRecord Record)> ReadActiveLocks()
    {
        var active = new List<(byte[], LockRecord)>();
        if (!HoldsLocks)
        {
            return active;
        }

        var (start, end) = KeySpace.LockRange(_shard.Range.Start, _shard.Range.End);
        using var it = _db.NewIterator(new ReadOptions { LowerBound = start, UpperBound = end });
        for (it.Seek(start); it.Valid; it.Next())
        {
            var record = LockRecord.Decode(it.Value);
            if (record.Holder is not null || record.Waiters.Count > 0)
            {
                active.Add((it.Key[1..].ToArray(), record));
            }
        }

        return active;
    }

    /// <summary>The highest fencing token a write to this shard presented for <paramref name="resource"/> (0 if none).</summary>
    public long ReadFence(ReadOnlySpan<byte> resource) =>
        _db.Get(KeySpace.FenceKey(_shard.Id, resource)) is { } value ? DecodeFence(value) : 0;

    /// <summary>
    /// Only user shards hold lock records: a system group (the controller) spans every key but owns no lock names, and
    /// its snapshots must never carry or replace the lock records of the user shards on its stores.
    /// </summary>
    private bool HoldsLocks => _dataPrefix == KeySpace.DataPrefix;

    private void ResetLockStaging()
    {
        _pendingLocks.Clear();
        _pendingFences.Clear();
    }

    private void CompleteLockApply()
    {
        foreach (var name in _pendingLocks.Keys)
        {
            _appliedLockChanges.Add(name);
        }

        _pendingLocks.Clear();
        _pendingFences.Clear();
    }

    /// <summary>
    /// Stages <paramref name="entry"/> if it is a lock command or a fenced write and returns true; false for any other
    /// entry (including one whose header this build cannot read: the caller's decoding reports it).
    /// </summary>
    private bool TryStageLockCommand(WriteBatch batch, in Entry entry, List<ApplyOutcome> outcomes)
    {
        var data = entry.Data.Span;
        if (!CommandEnvelope.TryReadHeader(data, out var header))
        {
            return false;
        }

        if (header.Type is CommandType.FencedWrite or CommandType.FencedTimedWrite)
        {
            var (code, succeeded, held) = ExecuteFenced(batch, FencedWriteCommand.Decode(header, data));
            outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, code, succeeded, Result: held));
            return true;
        }

        if (!LockCommand.IsLockType(header.Type))
        {
            return false;
        }

        var command = LockCommand.Decode(header, data);
        bool fromClient = header.Type is CommandType.AcquireLock or CommandType.RenewLock or CommandType.ReleaseLock;
        if (command.Epoch != Applying.Epoch || !Applying.Range.Contains(command.Name) || !HoldsLocks)
        {
            if (fromClient)
            {
                outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, NoKvErrorCode.WrongShard, false));
            }

            return true;
        }

        var record = LoadLock(command.Name);
        bool changed = false;
        bool ok = false;
        long payload = 0;
        switch (header.Type)
        {
            case CommandType.AcquireLock:
                if (record.Holder is { } holder && holder.Owner == command.Owner)
                {
                    // The holder again (a retry, or a waiter's poll after its grant): a renewal.
                    record.LeaseSeq++;
                    record.Holder = holder with { LeaseMs = command.LeaseMs };
                    (changed, ok, payload) = (true, true, holder.Token);
                }
                else if (record.Holder is null)
                {
                    record.Grant(command.Owner, command.LeaseMs);
                    (changed, ok, payload) = (true, true, record.LastToken);
                }
                else if (record.PositionOf(command.Owner) is > 0 and var position)
                {
                    payload = position;
                }
                else if (command.Wait)
                {
                    record.Waiters.Add(new LockWaiter(command.Owner, command.LeaseMs));
                    (changed, payload) = (true, record.Waiters.Count);
                }

                break;
            case CommandType.RenewLock:
                if (record.Holder is { } renewed && renewed.Owner == command.Owner && renewed.Token == command.Token)
                {
                    record.LeaseSeq++;
                    (changed, ok, payload) = (true, true, renewed.Token);
                }

                break;
            case CommandType.ReleaseLock:
                if (record.Holder is { } released && released.Owner == command.Owner)
                {
                    record.GrantNext();
                    (changed, ok) = (true, true);
                }
                else if (record.PositionOf(command.Owner) is > 0 and var at)
                {
                    record.Waiters.RemoveAt(at - 1);
                    (changed, ok) = (true, true);
                }

                break;
            case CommandType.ExpireLock:
                // Void if the holder renewed (or released, or the lock changed hands) after the leader decided.
                if (record.Holder is { } expired && expired.Token == command.Token && record.LeaseSeq == command.LeaseSeq)
                {
                    record.GrantNext();
                    changed = true;
                }

                break;
            case CommandType.ExpireLockWaiter:
                if (record.PositionOf(command.Owner) is > 0 and var gone)
                {
                    record.Waiters.RemoveAt(gone - 1);
                    changed = true;
                }

                break;
        }

        if (changed)
        {
            _pendingLocks[command.Name] = record;
            batch.Put(KeySpace.LockKey(command.Name), record.Encode());
        }

        if (fromClient)
        {
            outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, NoKvErrorCode.Ok, ok, payload));
        }

        return true;
    }

    private LockRecord LoadLock(byte[] name)
    {
        if (_pendingLocks.TryGetValue(name, out var pending))
        {
            return pending;
        }

        return _db.Get(KeySpace.LockKey(name)) is { } value ? LockRecord.Decode(value) : new LockRecord();
    }

    /// <summary>
    /// A fenced write: the session's recorded outcome if it is a retry; else refused (FencedOut, recorded for the
    /// session, nothing written) when a higher token was seen for the resource; else the resource's highest token
    /// becomes this one (if higher) and the write executes as an unfenced one would.
    /// </summary>
    private (NoKvErrorCode Code, bool Succeeded, object? Held) ExecuteFenced(WriteBatch batch, FencedWriteCommand fenced)
    {
        var command = fenced.Write;
        if (command.Epoch != Applying.Epoch || !Applying.Range.Contains(command.Key))
        {
            return (NoKvErrorCode.WrongShard, false, null);
        }

        var session = command.Session;
        if (!_pendingSessions.TryGetValue(session.SessionId, out var last)
            && !_sessionCache.TryGetValue(session.SessionId, out last)
            && _db.Get(KeySpace.SessionKey(_shard.Id, session.SessionId)) is { } stored)
        {
            last = SessionRecord.Decode(stored);
        }

        if (last.Sequence >= session.Sequence && last.Sequence != 0)
        {
            // A retry (same sequence: the recorded outcome) or an older sequence: Execute answers both.
            return Execute(batch, command);
        }

        var fenceKey = KeySpace.FenceKey(_shard.Id, fenced.Resource);
        long highest = _pendingFences.TryGetValue(fenceKey, out var pending) ? pending : _db.Get(fenceKey) is { } value ? DecodeFence(value) : 0;
        if (fenced.Token < highest)
        {
            var refused = new SessionRecord(session.Sequence, NoKvErrorCode.FencedOut, false, command.ProposedAtMs);
            _pendingSessions[session.SessionId] = refused;
            batch.Put(KeySpace.SessionKey(_shard.Id, session.SessionId), refused.Encode());
            return (NoKvErrorCode.FencedOut, false, null);
        }

        if (fenced.Token > highest)
        {
            _pendingFences[fenceKey] = fenced.Token;
            batch.Put(fenceKey, EncodeFence(fenced.Token));
        }

        return Execute(batch, command);
    }

    private static byte[] EncodeFence(long token)
    {
        var value = new byte[9];
        value[0] = 1;
        BinaryPrimitives.WriteInt64LittleEndian(value.AsSpan(1), token);
        return value;
    }

    private static long DecodeFence(ReadOnlySpan<byte> value) =>
        value.Length == 9 && value[0] == 1
            ? BinaryPrimitives.ReadInt64LittleEndian(value[1..])
            : throw new InvalidDataException($"Fence row of {value.Length} bytes is not a version 1 row.");

    private void WriteLockSections(Stream output, ExportPoint point, NoKv.Storage.Snapshot snapshot)
    {
        if (point.HoldsLocks)
        {
            var (lockStart, lockEnd) = KeySpace.LockRange(point.Shard.Range.Start, point.Shard.Range.End);
            WriteSection(output, lockStart, lockEnd, snapshot);
        }
        else
        {
            output.Write(new byte[8]);
        }

        WriteSection(output, KeySpace.FenceStart(point.Shard.Id), KeySpace.FenceEnd(point.Shard.Id), snapshot);
    }

    /// <summary>Installs a snapshot's lock sections; a version 2 snapshot has none, and leaves no lock state behind.</summary>
    private void IngestLockSections(SnapshotSectionReader reader, Abstractions.Sharding.ShardDescriptor incoming, bool hasLockSections)
    {
        var (lockStart, lockEnd) = KeySpace.LockRange(incoming.Range.Start, incoming.Range.End);
        if (hasLockSections && !HoldsLocks)
        {
            SkipSection(reader);
            IngestSection(reader.NextSection(), KeySpace.FenceStart(_shard.Id), KeySpace.FenceEnd(_shard.Id));
        }
        else if (hasLockSections)
        {
            IngestSection(reader.NextSection(), lockStart, lockEnd);
            IngestSection(reader.NextSection(), KeySpace.FenceStart(_shard.Id), KeySpace.FenceEnd(_shard.Id));
        }
        else
        {
            var batch = new WriteBatch();
            if (HoldsLocks)
            {
                batch.DeleteRange(lockStart, lockEnd);
            }

            batch.DeleteRange(KeySpace.FenceStart(_shard.Id), KeySpace.FenceEnd(_shard.Id));
            _db.Write(batch, WriteOptions.Synced);
        }

        _locksReplaced = true;
    }

    /// <summary>Steps over a section that must stay empty for this group (a system group's lock records).</summary>
    private void SkipSection(SnapshotSectionReader reader)
    {
        if (reader.NextSection().Length != 0)
        {
            throw new InvalidDataException($"Shard {_shard.Id}: a system group's snapshot carries lock records.");
        }
    }

    private void StageLockReset(WriteBatch batch)
    {
        if (HoldsLocks)
        {
            var (lockStart, lockEnd) = KeySpace.LockRange(_shard.Range.Start, _shard.Range.End);
            batch.DeleteRange(lockStart, lockEnd);
        }

        batch.DeleteRange(KeySpace.FenceStart(_shard.Id), KeySpace.FenceEnd(_shard.Id));
        _locksReplaced = true;
    }
}
