using System.Buffers.Binary;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Layout;
using NoKv.Raft.Messages;
using NoKv.Raft.Snapshots;
using NoKv.Raft.Storage;
using NoKv.Replica.Commands;
using NoKv.Replica.Core;
using NoKv.Replica.Mvcc;
using NoKv.Storage;

namespace NoKv.Replica.StateMachine;

/// <summary>
/// A shard's replicated state in the engine: user data in the shard's range, the per-session dedupe table,
/// the shard descriptor (range, epochs, members) and the applied index, all changed by one atomic WriteBatch per
/// group of committed entries. The applied
/// index being written with the data is what lets applies skip fsync: after a crash, data and applied index
/// roll back together and the entries are replayed from the (synced) Raft log.
/// Determinism: applying the same entries to the same state gives the same result on every replica
/// (no clocks, no configuration-dependent checks).
/// Thread safety: none; owned by one replica grain.
/// </summary>
internal sealed partial class ShardStateMachine
{
    private const uint SnapshotMagic = 0x4E534B4E; // "NKSN"
    private const byte SnapshotVersion = 5;

    /// <summary>Snapshots of version 2 (before the lock service) end after the data section; still installed.</summary>
    private const byte OldestSnapshotVersion = 2;

    private readonly Database _db;

    // Engine prefix of this group's rows: user data, or the controller's rows (KeySpace.DataPrefixOf).
    private readonly byte _dataPrefix;
    private ShardDescriptor _shard;
    private byte[] _dataStart;
    private byte[] _dataEnd;
    private ShardDescriptor? _stagedShard;
    private readonly List<ConfChange> _stagedConfChanges = new();
    /// <summary>Most sessions stay cached below this; past it the cache starts over (it only saves engine reads).</summary>
    private const int SessionCacheLimit = 16_384;

    private readonly Dictionary<Guid, SessionRecord> _pendingSessions = new();

    // Committed dedupe rows (as in the engine), so a write does not read its session row from the LSM each
    // time (7% of a silo's CPU in the write benchmark). Invariant: every entry equals the engine's row. Filled
    // on reads and by CompleteApply; dropped wholesale when rows are deleted (expiry, snapshot, reset).
    private readonly Dictionary<Guid, SessionRecord> _sessionCache = new();
    private bool _stagedExpiry;
    private bool _staged;
    private ulong _stagedIndex;
    private ulong _stagedTerm;

    /// <summary>See <see cref="Core.IReplicaHost.UniformWriteCompletion"/>: set by the core from its host.</summary>
    public bool UniformWriteCompletion { get; init; }

    /// <summary>An engine write of a snapshot install or reset, which the replica's pump awaits.</summary>
    private async ValueTask PersistAsync(WriteBatch batch, WriteOptions options)
    {
        var write = _db.WriteAsync(batch, options);
        if (write.IsCompleted && UniformWriteCompletion)
        {
            await Task.Yield();
        }

        await write.ConfigureAwait(true);
    }

    public ShardStateMachine(Database db, ReplicaState replica)
    {
        _db = db;
        _shard = replica.Descriptor;
        PeerId = replica.PeerId;
        var shard = _shard;
        _dataPrefix = KeySpace.DataPrefixOf(shard.Id);
        (_dataStart, _dataEnd) = KeySpace.DataRange(_dataPrefix, shard.Range.Start, shard.Range.End);
        LoadFloor();
        LoadMergeState();
        if (db.Get(KeySpace.ApplyStateKey(shard.Id)) is { } state)
        {
            AppliedIndex = BinaryPrimitives.ReadUInt64LittleEndian(state);
            AppliedTerm = BinaryPrimitives.ReadUInt64LittleEndian(state.AsSpan(8));
        }
    }

    public ulong AppliedIndex { get; private set; }

    /// <summary>This store's Raft peer in the group.</summary>
    public ulong PeerId { get; }

    /// <summary>The shard as of <see cref="AppliedIndex"/>.</summary>
    public ShardDescriptor Descriptor => _shard;

    /// <summary>Set when a committed entry could not be applied by this build; nothing is applied past it.</summary>
    public string? HaltReason { get; private set; }

    public ulong AppliedTerm { get; private set; }

    /// <summary>
    /// The descriptor commands are checked against while a batch is staged: the applied one, or the one an earlier
    /// entry of the batch changed (a split shrinks the range and raises the epoch for the entries after it).
    /// </summary>
    private ShardDescriptor Applying => _stagedShard ?? _shard;

    /// <summary>
    /// Applies committed entries in order and records the new applied index with their effects, in one write.
    /// <paramref name="outcomes"/> receives one outcome per command entry (no-ops and membership entries give none).
    /// </summary>
    public async ValueTask ApplyAsync(ReadOnlyMemory<Entry> committed, List<ApplyOutcome> outcomes)
    {
        var batch = new WriteBatch();
        if (!StageApply(committed.Span, outcomes, batch))
        {
            return;
        }

        await _db.WriteAsync(batch, WriteOptions.Default).ConfigureAwait(true);
        _ = CompleteApply();
    }

    /// <summary>
    /// Stages the effects of <paramref name="committed"/> (in order) and the new applied index into
    /// <paramref name="batch"/>, so the caller can write them atomically with other state (its Raft log and
    /// hard state). Returns false if nothing is new. Outcomes are final, but they must not be reported, and
    /// <see cref="AppliedIndex"/> does not move, until the batch is written and <see cref="CompleteApply"/> is called.
    /// REQUIRES: no other staged apply is pending; the engine holds every earlier apply (reads see it).
    /// </summary>
    public bool StageApply(ReadOnlySpan<Entry> committed, List<ApplyOutcome> outcomes, WriteBatch batch)
    {
        if (_staged)
        {
            throw new InvalidOperationException($"Shard {_shard.Id}: an apply is staged and not completed.");
        }

        if (committed.IsEmpty || HaltReason is not null)
        {
            return false;
        }

        BeginMvccStage();
        _pendingSessions.Clear();
        _stagedConfChanges.Clear();
        _stagedShard = null;
        _stagedExpiry = false;
        ResetLockStaging();
        ResetSplitStaging();
        ResetMergeStaging();
        ulong lastIndex = 0, lastTerm = 0;
        foreach (ref readonly var entry in committed)
        {
            if (entry.Index <= AppliedIndex || entry.Data.IsEmpty)
            {
                lastIndex = entry.Index;
                lastTerm = entry.Term;
                continue;
            }

            try
            {
                if (entry.Type == EntryType.ConfChange)
                {
                    StageConfChange(ConfChange.Decode(entry.Data));
                    outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, NoKvErrorCode.Ok, true));
                }
                else if (entry.Type != EntryType.Normal)
                {
                    throw new FormatException($"entry type {entry.Type} is unknown to this build");
                }
                else if (TryRefuseWhileMerging(entry, outcomes))
                {
                    // A prepared merge source applies nothing but a rollback (ShardStateMachine.Merge.cs).
                }
                else if (TryStageMerge(batch, entry, outcomes))
                {
                    if (MergeWait is not null)
                    {
                        // A commit whose source is not final on this store yet: stop before it; the core retries.
                        break;
                    }
                }
                else if (TryStageSplit(batch, entry, outcomes))
                {
                    // A split (ShardStateMachine.Split.cs): later entries of this batch see the shrunk descriptor.
                }
                else if (TryStagePreferLeader(entry, outcomes))
                {
                    // A preferred-leader change (ShardStateMachine.Leader.cs): reorders the descriptor's peers.
                }
                else if (TryStageLockCommand(batch, entry, outcomes))
                {
                    // A lock service command or a fenced write (ShardStateMachine.Locks.cs).
                }
                else if (KvCommand.TryDecodeExpireSessions(entry.Data.Span, out long cutoff))
                {
                    ExpireSessions(batch, cutoff);
                    _stagedExpiry = true;
                }
                else if (TryApplyTxn(batch, entry.Data.Span) is { } txnOutcome)
                {
                    outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, txnOutcome.Code, txnOutcome.Code == NoKvErrorCode.Ok, Result: txnOutcome));
                }
                else
                {
                    var command = KvCommand.Decode(entry.Data.Span);
                    var (code, succeeded, payload) = Execute(batch, command);
                    outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, code, succeeded, Result: payload));
                }
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                // Never skip a committed entry (replicas would diverge) and never fail the replica over it (a
                // crash loop would also stop its log appends): stop applying here (docs/format-commands.md).
                // Entries before this one are staged and still apply.
                HaltReason = $"entry {entry.Index} (term {entry.Term}) cannot be applied: {e.Message}";
                break;
            }

            lastIndex = entry.Index;
            lastTerm = entry.Term;
        }

        if (lastIndex <= AppliedIndex)
        {
            return false;
        }

        if (_stagedShard is not null)
        {
            batch.Put(KeySpace.ReplicaStateKey(_shard.Id), ReplicaStateCodec.Encode(new ReplicaState(PeerId, _stagedShard)));
        }

        StageFloor(batch);
        batch.Put(KeySpace.ApplyStateKey(_shard.Id), EncodeApplyState(lastIndex, lastTerm));
        _staged = true;
        _stagedIndex = lastIndex;
        _stagedTerm = lastTerm;
        return true;
    }

    /// <summary>
    /// The batch of the staged apply is written: its effects, descriptor and applied index become current.
    /// Returns the membership changes it applied, in order, which the caller hands to its Raft node.
    /// </summary>
    public IReadOnlyList<ConfChange> CompleteApply()
    {
        if (!_staged)
        {
            return [];
        }

        _staged = false;
        AppliedIndex = _stagedIndex;
        AppliedTerm = _stagedTerm;
        if (_stagedShard is not null)
        {
            SetDescriptor(_stagedShard);
            _stagedShard = null;
        }

        if (_stagedExpiry || _sessionCache.Count + _pendingSessions.Count > SessionCacheLimit)
        {
            // Expiry deleted rows the cache may hold; simplest to start over (it runs every few minutes).
            _sessionCache.Clear();
        }

        if (!_stagedExpiry)
        {
            foreach (var (session, record) in _pendingSessions)
            {
                _sessionCache[session] = record;
            }
        }

        _pendingSessions.Clear();
        CompleteMvccStage();
        CompleteLockApply();
        CompleteSplitApply();
        CompleteMergeApply();
        return _stagedConfChanges.Count == 0 ? [] : _stagedConfChanges.ToArray();
    }

    /// <summary>
    /// Stages a committed membership change into the descriptor. The change was validated by Raft's configuration
    /// changer when proposed; here it only needs the store of an added peer, which travels in its context.
    /// </summary>
    private void StageConfChange(ConfChange change)
    {
        var current = _stagedShard ?? _shard;
        var peers = new List<PeerDescriptor>(current.Peers);
        int at = peers.FindIndex(p => p.PeerId == change.NodeId);
        switch (change.Type)
        {
            case ConfChangeType.AddNode or ConfChangeType.AddLearnerNode:
                var role = change.Type == ConfChangeType.AddNode ? PeerRole.Voter : PeerRole.Learner;
                if (at >= 0)
                {
                    peers[at] = peers[at] with { Role = role };
                }
                else
                {
                    peers.Add(new PeerDescriptor(change.NodeId, PeerChangeContext.DecodeStore(change.Context.Span), role));
                }

                break;
            case ConfChangeType.RemoveNode:
                if (at >= 0)
                {
                    peers.RemoveAt(at);
                }

                break;
            default:
                throw new FormatException($"membership change type {change.Type} is unknown to this build");
        }

        _stagedConfChanges.Add(change);
        if (!PeersEqual(peers, current.Peers))
        {
            _stagedShard = new ShardDescriptor(current.Id, current.Range, current.Epoch, current.ConfVersion + 1, peers.ToArray());
        }
    }

    private static bool PeersEqual(List<PeerDescriptor> a, PeerDescriptor[] b)
    {
        if (a.Count != b.Length)
        {
            return false;
        }

        for (int i = 0; i < b.Length; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        return true;
    }

    private void SetDescriptor(ShardDescriptor shard)
    {
        bool startMoved = !shard.Range.Start.AsSpan().SequenceEqual(_shard.Range.Start);
        _shard = shard;
        (_dataStart, _dataEnd) = KeySpace.DataRange(_dataPrefix, shard.Range.Start, shard.Range.End);
        if (startMoved)
        {
            // The floor row lives on the shard's start key; a range that moved keeps the floor it had (never lower).
            LoadFloor();
        }
    }

    /// <summary>
    /// The shard's state at the current applied index, as snapshot data:
    /// magic (4) | version (1) = 4 | applied index (8) | applied term (8) | descriptor length (4) | descriptor
    ///   | sessions length (8) | sessions export | data length (8) | data export
    ///   | lock records length (8) | lock records export | fences length (8) | fences export
    ///   | split history length (8) | split history export | merge state length (8) | merge state export.
    /// Version 4 (read only) ends after the split history, version 3 after the fences, version 2 after the data export.
    /// The descriptor is a <see cref="ReplicaStateCodec"/> record with peer id 0 (the receiver puts its own).
    /// </summary>
    public byte[] ExportSnapshot()
    {
        using var snapshot = _db.GetSnapshot();
        using var output = new SegmentedExportStream();
        Export(CaptureExportPoint(), snapshot, output);
        return output.ToArray();
    }

    /// <summary>What an export needs of the replica's state, taken on the replica's thread with the engine snapshot.</summary>
    private ExportPoint CaptureExportPoint() => new(AppliedIndex, AppliedTerm, _shard, _dataStart, _dataEnd, HoldsLocks);

    /// <summary>
    /// Writes the snapshot data of <paramref name="point"/> to <paramref name="output"/> (seekable: each section's length
    /// is patched in after it); reads only the engine snapshot, so it may run off the replica's thread.
    /// </summary>
    private void Export(ExportPoint point, NoKv.Storage.Snapshot snapshot, Stream output)
    {
        var descriptor = ReplicaStateCodec.Encode(new ReplicaState(0, point.Shard));
        Span<byte> header = stackalloc byte[25];
        BinaryPrimitives.WriteUInt32LittleEndian(header, SnapshotMagic);
        header[4] = SnapshotVersion;
        BinaryPrimitives.WriteUInt64LittleEndian(header[5..], point.Index);
        BinaryPrimitives.WriteUInt64LittleEndian(header[13..], point.Term);
        BinaryPrimitives.WriteInt32LittleEndian(header[21..], descriptor.Length);
        output.Write(header);
        output.Write(descriptor);
        WriteSection(output, KeySpace.SessionStart(point.Shard.Id), KeySpace.SessionEnd(point.Shard.Id), snapshot);
        WriteSection(output, point.DataStart, point.DataEnd, snapshot);
        WriteLockSections(output, point, snapshot);
        WriteSection(output, KeySpace.SplitHistoryKey(point.Shard.Id), KeySpace.SplitHistoryEnd(point.Shard.Id), snapshot);
        WriteSection(output, KeySpace.MergeStateKey(point.Shard.Id), KeySpace.MergeStateEnd(point.Shard.Id), snapshot);
    }

    /// <summary>Replaces the shard's state with snapshot data (from <see cref="ExportSnapshot"/>) taken at (index, term).</summary>
    public ValueTask InstallSnapshotAsync(ReadOnlyMemory<byte> data, ulong index, ulong term) =>
        InstallSnapshotAsync(new MemorySnapshotPayload(data), index, term);

    /// <summary>Replaces the shard's state with a snapshot (in memory or staged in a file) taken at (index, term).</summary>
    /// <remarks>
    /// Ingesting runs off the caller's thread (it reads the payload as a stream, writes and syncs table files, and may
    /// wait for a memtable flush), so a replica grain installing a snapshot does not hold its silo's scheduler thread,
    /// and only the engine's buffers hold any of the snapshot at a time. The replica state row and the applied index
    /// are written last, in one synced batch: a crash before it leaves the applied index behind the log's snapshot
    /// point, which reopening detects and repairs (the leader sends the snapshot again). The caller keeps the payload
    /// and releases it after.
    /// </remarks>
    public async ValueTask InstallSnapshotAsync(SnapshotPayload payload, ulong index, ulong term)
    {
        _sessionCache.Clear();
        var (version, incoming) = await Task.Run(() => IngestSnapshot(payload)).ConfigureAwait(true);
        var batch = new WriteBatch();
        ResetSplitStaging();
        ResetMergeStaging();
        if (version < 5)
        {
            batch.Delete(KeySpace.MergeStateKey(_shard.Id));
        }

        StageSkippedSplits(batch, _shard.Epoch, _shard.Peer(PeerId)?.Store ?? incoming.Peer(PeerId)!.Value.Store);
        StageSkippedMerges(batch, incoming);
        batch.Put(KeySpace.ReplicaStateKey(_shard.Id), ReplicaStateCodec.Encode(new ReplicaState(PeerId, incoming)));
        batch.Put(KeySpace.ApplyStateKey(_shard.Id), EncodeApplyState(index, term));
        await PersistAsync(batch, WriteOptions.Synced).ConfigureAwait(true);
        SetDescriptor(incoming);
        LoadFloor(replace: true);
        AppliedIndex = index;
        AppliedTerm = term;
        CompleteSplitApply();
        CompleteMergeApply();
        LoadMergeState();
    }

    /// <summary>Drops all replicated state (used when the state machine is behind the log's compaction point).</summary>
    public async ValueTask ResetAsync()
    {
        _sessionCache.Clear();
        var batch = new WriteBatch();
        batch.DeleteRange(_dataStart, _dataEnd);
        batch.DeleteRange(KeySpace.SessionStart(_shard.Id), KeySpace.SessionEnd(_shard.Id));
        StageLockReset(batch);
        batch.Delete(KeySpace.SplitHistoryKey(_shard.Id));
        batch.Delete(KeySpace.MergeStateKey(_shard.Id));
        batch.Delete(KeySpace.ApplyStateKey(_shard.Id));
        await PersistAsync(batch, WriteOptions.Synced).ConfigureAwait(true);
        LoadFloor(replace: true);
        _mergeState = null;
        AppliedIndex = 0;
        AppliedTerm = 0;
    }

    private (NoKvErrorCode Code, bool Succeeded, object? Payload) Execute(WriteBatch batch, KvCommand command)
    {
        if (command.Epoch != Applying.Epoch || !Applying.Range.Contains(command.Key))
        {
            return (NoKvErrorCode.WrongShard, false, null);
        }

        var sessionKey = KeySpace.SessionKey(_shard.Id, command.Session.SessionId);
        if (!_pendingSessions.TryGetValue(command.Session.SessionId, out var last)
            && !_sessionCache.TryGetValue(command.Session.SessionId, out last)
            && _db.Get(sessionKey) is { } stored)
        {
            last = SessionRecord.Decode(stored);
            if (_sessionCache.Count < SessionCacheLimit)
            {
                _sessionCache[command.Session.SessionId] = last;
            }
        }

        if (last.Sequence == command.Session.Sequence && last.Sequence != 0)
        {
            return (last.Code, last.Succeeded, null);
        }

        if (last.Sequence > command.Session.Sequence)
        {
            return (NoKvErrorCode.StaleSequence, false, null);
        }

        // A transaction's lock orders the key: the write waits until the lock is resolved through its primary
        // (the client does that and retries with the same sequence). Not recorded in the session: nothing applied.
        if (LockOf(command.Key) is { } held)
        {
            return (NoKvErrorCode.KeyLocked, false, LockInfo(command.Key, held, command.ProposedAtMs));
        }

        if (!ExpiryFitsKind(command))
        {
            // The leader refuses these before proposing; a command that still carries one changes nothing.
            return (NoKvErrorCode.InvalidRange, false, null);
        }

        // Liveness, comparisons and "already expired" are judged by the proposing leader's clock carried in the
        // command (never this replica's): every replica decides the same.
        long now = command.ProposedAtMs;
        var newest = NewestVersion(command.Key);
        VersionRecord? live = newest is { } n && n.Record.IsLive(now) ? n.Record : null;
        bool succeeded = true;
        switch (command.Kind)
        {
            case WriteKind.Put:
                StageValue(batch, command.Key, command.Value ?? [], ExpiryOf(command, live), live is not null, now);
                break;
            case WriteKind.Delete:
                if (live is not null)
                {
                    StageVersion(batch, command.Key, NextTimestamp(now), VersionRecord.Tombstone);
                }

                break;
            case WriteKind.CompareAndSwap:
                succeeded = command.Expected is null ? live is null : live is { } current && current.Value.AsSpan().SequenceEqual(command.Expected);
                if (succeeded && command.Value is not null)
                {
                    StageValue(batch, command.Key, command.Value, ExpiryOf(command, live), live is not null, now);
                }
                else if (succeeded && live is not null)
                {
                    StageVersion(batch, command.Key, NextTimestamp(now), VersionRecord.Tombstone);
                }

                break;
            case WriteKind.Expire:
                succeeded = live is { } target && ExpiryConditionHolds(command.Condition, target.ExpiresAtMs, command.ExpiresAtMs);
                if (succeeded && live!.Value.ExpiresAtMs != command.ExpiresAtMs)
                {
                    StageValue(batch, command.Key, live.Value.Value!, command.ExpiresAtMs, true, now);
                }

                break;
            default:
                return (NoKvErrorCode.InvalidRange, false, null);
        }

        var record = new SessionRecord(command.Session.Sequence, NoKvErrorCode.Ok, succeeded, command.ProposedAtMs);
        _pendingSessions[command.Session.SessionId] = record;
        batch.Put(sessionKey, record.Encode());
        return (NoKvErrorCode.Ok, succeeded, null);
    }

    /// <summary>
    /// Stages <paramref name="value"/> as the key's new version expiring at <paramref name="expiresAtMs"/> (0: never).
    /// An expiry at or before <paramref name="nowMs"/> (a time to live that ran out, an EXPIREAT in the past) removes
    /// the key instead, with a tombstone: a version that is merely expired would look live to a later leader whose
    /// clock is behind this one's.
    /// </summary>
    private void StageValue(WriteBatch batch, byte[] key, byte[] value, long expiresAtMs, bool replacesLive, long nowMs)
    {
        if (expiresAtMs != 0 && expiresAtMs <= nowMs)
        {
            if (replacesLive)
            {
                StageVersion(batch, key, NextTimestamp(nowMs), VersionRecord.Tombstone);
            }

            return;
        }

        StageVersion(batch, key, NextTimestamp(nowMs), VersionRecord.Put(value, expiresAtMs));
    }

    /// <summary>The expiry a Put or CompareAndSwap gives its value: the one it carries, or the replaced live value's.</summary>
    private static long ExpiryOf(KvCommand command, VersionRecord? live) =>
        command.KeepExpiry ? live?.ExpiresAtMs ?? 0 : command.ExpiresAtMs;

    /// <summary>Keep-expiry belongs to Put and CompareAndSwap, conditions to Expire, and a Delete carries no expiry.</summary>
    private static bool ExpiryFitsKind(KvCommand command) => command.Kind switch
    {
        WriteKind.Expire => !command.KeepExpiry,
        WriteKind.Delete => !command.KeepExpiry && command.ExpiresAtMs == 0 && command.Condition == ExpireCondition.Always,
        _ => command.Condition == ExpireCondition.Always && !(command.KeepExpiry && command.ExpiresAtMs != 0),
    };

    /// <summary>Redis's NX/XX/GT/LT, with "no expiry" (0) counting as later than any time.</summary>
    internal static bool ExpiryConditionHolds(ExpireCondition condition, long currentMs, long newMs)
    {
        long current = currentMs == 0 ? long.MaxValue : currentMs;
        long next = newMs == 0 ? long.MaxValue : newMs;
        return condition switch
        {
            ExpireCondition.Always => true,
            ExpireCondition.IfNoExpiry => currentMs == 0,
            ExpireCondition.IfHasExpiry => currentMs != 0,
            ExpireCondition.IfLater => currentMs != 0 && next > current,
            ExpireCondition.IfEarlier => next < current,
            _ => false,
        };
    }

    /// <summary>
    /// Drops dedupe rows last used before <paramref name="cutoffMs"/>. A client retries a write only until
    /// its operation deadline, far shorter than the session TTL, so an expired row can no longer be needed.
    /// Rows updated earlier in the same batch are recent by construction and kept.
    /// </summary>
    private void ExpireSessions(WriteBatch batch, long cutoffMs)
    {
        using var it = _db.NewIterator(new ReadOptions { LowerBound = KeySpace.SessionStart(_shard.Id), UpperBound = KeySpace.SessionEnd(_shard.Id) });
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            var key = it.Key;
            var session = new Guid(key[10..26]);
            if (!_pendingSessions.ContainsKey(session) && SessionRecord.Decode(it.Value).LastUsedMs < cutoffMs)
            {
                batch.Delete(key);
            }
        }
    }

    private void WriteSection(Stream output, byte[] start, byte[] end, NoKv.Storage.Snapshot snapshot)
    {
        long lengthAt = output.Position;
        output.Write(new byte[8]);
        _db.ExportRange(start, end, output, snapshot);
        long length = output.Position - lengthAt - 8;
        long resume = output.Position;
        output.Position = lengthAt;
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(lengthBytes, length);
        output.Write(lengthBytes);
        output.Position = resume;
    }

    private void IngestSection(Stream section, byte[] start, byte[] end) => _db.IngestRange(start, end, section);

    private static byte[] EncodeApplyState(ulong index, ulong term)
    {
        var value = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(value, index);
        BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(8), term);
        return value;
    }
}
