using System.Buffers.Binary;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Layout;
using NoKv.Replica.Log;
using NoKv.Replica.Mvcc;
using NoKv.Storage;

namespace NoKv.Replica.StateMachine;

/// <summary>
/// Applying a split (docs/replica.md, "Split"). User data rows are keyed by user key and shared by every replica of
/// the store, so a split moves no data: in the same atomic batch as the applied index, the shard's descriptor shrinks
/// to <c>[start, splitKey)</c> with the next epoch, and the new shard's replica on this store is created whole: its
/// replica state row, apply state and Raft state (<see cref="RaftLogStore.StageInitialState"/>), copies of the
/// per-shard rows the right half needs (client session rows, so a retried write applies once whichever half it
/// reaches; fence rows, which only ever refuse older tokens) and its timestamp floor on its start key. Lock records
/// and transaction rows are keyed by name and user key, so they belong to whichever half holds them already.
/// </summary>
internal sealed partial class ShardStateMachine
{
    /// <summary>The Raft index and term a group created by a split starts at (its log is empty up to them).</summary>
    public const ulong SplitInitialIndex = 5;

    /// <summary>See <see cref="SplitInitialIndex"/>.</summary>
    public const ulong SplitInitialTerm = 5;

    private readonly List<(ShardDescriptor Left, ShardDescriptor Right)> _stagedSplits = new();
    private readonly List<(ShardDescriptor Left, ShardDescriptor Right)> _appliedSplits = new();

    /// <summary>Splits applied since the core last asked, in order: (the shard as it is now, the new shard).</summary>
    public List<(ShardDescriptor Left, ShardDescriptor Right)> TakeSplits()
    {
        if (_appliedSplits.Count == 0)
        {
            return [];
        }

        var splits = new List<(ShardDescriptor, ShardDescriptor)>(_appliedSplits);
        _appliedSplits.Clear();
        return splits;
    }

    /// <summary>
    /// Why <paramref name="command"/> cannot split <paramref name="shard"/>, or null if it can. The same checks run
    /// when the leader proposes (a clear answer to the caller) and when every replica applies (the authority: the
    /// descriptor may have changed in between, and a refused split changes nothing).
    /// </summary>
    public static (NoKvErrorCode Code, string Detail)? CheckSplit(ShardDescriptor shard, SplitCommand command, bool holdsUserData)
    {
        if (!holdsUserData)
        {
            return (NoKvErrorCode.InvalidRange, $"shard {shard.Id} is a system group and does not split");
        }

        if (command.Epoch != shard.Epoch)
        {
            return (NoKvErrorCode.WrongShard, $"split for epoch {command.Epoch}; shard {shard.Id} is at epoch {shard.Epoch}");
        }

        if (command.SplitKey.Length == 0 || !shard.Range.Contains(command.SplitKey) || command.SplitKey.AsSpan().SequenceEqual(shard.Range.Start))
        {
            return (NoKvErrorCode.InvalidRange, $"split key {KeyFormatter.Format(command.SplitKey)} is not strictly inside shard {shard.Id} {shard.Range}");
        }

        if (command.NewShard.Value <= 0 || command.NewShard == shard.Id || command.NewShard == SystemShards.Controller)
        {
            return (NoKvErrorCode.InvalidRange, $"new shard id {command.NewShard} is not valid");
        }

        if (command.NewPeers.Length != shard.Peers.Length)
        {
            return (NoKvErrorCode.InvalidRange, $"split names {command.NewPeers.Length} new peers; shard {shard.Id} has {shard.Peers.Length}");
        }

        for (int i = 0; i < command.NewPeers.Length; i++)
        {
            var peer = command.NewPeers[i];
            if (peer.PeerId == 0 || shard.PeerOn(peer.Store) is null || shard.Peer(peer.PeerId) is not null)
            {
                return (NoKvErrorCode.InvalidRange, $"new peer {peer} does not match a store of shard {shard.Id} or reuses a peer id");
            }

            for (int j = 0; j < i; j++)
            {
                if (command.NewPeers[j].Store == peer.Store || command.NewPeers[j].PeerId == peer.PeerId)
                {
                    return (NoKvErrorCode.InvalidRange, $"split lists store {peer.Store} or peer {peer.PeerId} twice");
                }
            }
        }

        return null;
    }

    /// <summary>The two halves <paramref name="command"/> makes of <paramref name="shard"/>. REQUIRES: <see cref="CheckSplit"/> passed.</summary>
    public static (ShardDescriptor Left, ShardDescriptor Right) Halves(ShardDescriptor shard, SplitCommand command)
    {
        long epoch = shard.Epoch + 1;
        var left = new ShardDescriptor(shard.Id, new KeyRange(shard.Range.Start, command.SplitKey), epoch, shard.ConfVersion, shard.Peers);
        var peers = new PeerDescriptor[shard.Peers.Length];
        for (int i = 0; i < peers.Length; i++)
        {
            var old = shard.Peers[i];
            var added = Array.Find(command.NewPeers, p => p.Store == old.Store);
            peers[i] = new PeerDescriptor(added.PeerId, old.Store, old.Role);
        }

        var right = new ShardDescriptor(command.NewShard, new KeyRange(command.SplitKey, shard.Range.End), epoch, shard.ConfVersion, peers);
        return (left, right);
    }

    /// <summary>Stages <paramref name="entry"/> if it is a split and returns true; false for any other entry.</summary>
    private bool TryStageSplit(WriteBatch batch, in Entry entry, List<ApplyOutcome> outcomes)
    {
        var data = entry.Data.Span;
        if (!CommandEnvelope.TryReadHeader(data, out var header) || header.Type != CommandType.Split)
        {
            return false;
        }

        var command = SplitCommand.Decode(header, data);
        var current = _stagedShard ?? _shard;
        if (CheckSplit(current, command, HoldsLocks) is { } refusal)
        {
            outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, refusal.Code, false, Result: refusal.Detail));
            return true;
        }

        var (left, right) = Halves(current, command);
        var history = _stagedHistory ?? ReadSplitHistory();
        history.Add(right);
        if (history.Count > SplitHistoryCodec.MaxEntries)
        {
            history.RemoveAt(0);
        }

        _stagedHistory = history;
        batch.Put(KeySpace.SplitHistoryKey(current.Id), SplitHistoryCodec.Encode(history));
        _stagedShard = left;
        _stagedSplits.Add((left, right));
        outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, NoKvErrorCode.Ok, true, Result: right));
        if (_db.Get(KeySpace.ReplicaStateKey(right.Id)) is not null)
        {
            // Created already from the split history of a snapshot (this replica skipped the split, then replayed it?):
            // never overwrite a replica that may have voted or taken a snapshot since.
            return true;
        }

        var mine = right.PeerOn(current.Peer(PeerId)!.Value.Store)!.Value;
        batch.Put(KeySpace.ReplicaStateKey(right.Id), ReplicaStateCodec.Encode(new ReplicaState(mine.PeerId, right)));
        batch.Put(KeySpace.ApplyStateKey(right.Id), EncodeApplyState(SplitInitialIndex, SplitInitialTerm));
        RaftLogStore.StageInitialState(batch, right.Id, SplitInitialIndex, SplitInitialTerm);
        CopyGroupRows(batch, KeySpace.SessionStart(current.Id), KeySpace.SessionEnd(current.Id), right.Id, _pendingSessions.Keys.Select(s => KeySpace.SessionKey(current.Id, s)));
        foreach (var (session, record) in _pendingSessions)
        {
            batch.Put(KeySpace.SessionKey(right.Id, session), record.Encode());
        }

        CopyGroupRows(batch, KeySpace.FenceStart(current.Id), KeySpace.FenceEnd(current.Id), right.Id, _pendingFences.Keys);
        foreach (var (fenceKey, token) in _pendingFences)
        {
            batch.Put(Rekey(fenceKey, right.Id), EncodeFence(token));
        }

        // The right half's floor is the shard's as of this entry: it served no snapshot the shard did not, and holds
        // no version above the shard's highest, so its stamps and reads stay ordered like the shard's would.
        batch.Put(MvccKeys.Floor(_dataPrefix, right.Range.Start), _stagedFloor.Encode());
        return true;
    }

    /// <summary>The shards split off this one, each as it was created (range, epoch, peers), oldest first; at most <see cref="SplitHistoryCodec.MaxEntries"/>.</summary>
    public IReadOnlyList<ShardDescriptor> SplitOffShards() => ReadSplitHistory();

    private List<ShardDescriptor> ReadSplitHistory() =>
        _db.Get(KeySpace.SplitHistoryKey(_shard.Id)) is { } row ? SplitHistoryCodec.Decode(row) : new List<ShardDescriptor>();

    /// <summary>
    /// After a snapshot replaced this replica's state (from <paramref name="previousEpoch"/> to the snapshot's): the new
    /// shards of splits it skipped that have a peer on this store and no replica here yet. Each is created empty (a
    /// replica state row, no apply state, no Raft state) in <paramref name="batch"/>: its log is empty, so its leader
    /// finds it behind the log's start and sends it a snapshot, which replaces the stale rows of its range this store
    /// still holds. Until then it applied nothing, serves nothing and cannot win an election (its log is empty while a
    /// quorum of its group holds the split's initial entry).
    /// </summary>
    private void StageSkippedSplits(WriteBatch batch, long previousEpoch, StoreId store)
    {
        foreach (var right in ReadSplitHistory())
        {
            if (right.Epoch <= previousEpoch || right.PeerOn(store) is not { } mine || _db.Get(KeySpace.ReplicaStateKey(right.Id)) is not null)
            {
                continue;
            }

            batch.Put(KeySpace.ReplicaStateKey(right.Id), ReplicaStateCodec.Encode(new ReplicaState(mine.PeerId, right)));
            _stagedSplits.Add((_shard, right));
        }
    }

    /// <summary>
    /// The user key that splits the shard's rows (all versions, locks and status rows, by engine bytes) in two halves,
    /// or null when the shard holds fewer than two keys. Never the range's start. A scan of the range: for operator
    /// requests and the controller's size policy, not for request paths.
    /// </summary>
    public byte[]? MiddleKey()
    {
        long total = 0;
        using (var it = _db.NewIterator(new ReadOptions { LowerBound = _dataStart, UpperBound = _dataEnd }))
        {
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                total += it.Key.Length + it.Value.Length;
            }
        }

        long seen = 0;
        using var scan = _db.NewIterator(new ReadOptions { LowerBound = _dataStart, UpperBound = _dataEnd });
        for (scan.SeekToFirst(); scan.Valid; scan.Next())
        {
            seen += scan.Key.Length + scan.Value.Length;
            if (seen * 2 < total || !MvccKeys.TryParse(scan.Key, out int baseLength, out _, out _))
            {
                continue;
            }

            var key = MvccKeys.UserKey(scan.Key, baseLength);

            // The first key at or past the middle, unless it is the start: the split key begins the right half.
            if (key.Length > 0 && !key.AsSpan().SequenceEqual(_shard.Range.Start))
            {
                return key;
            }
        }

        return null;
    }

    /// <summary>Copies every row of this group in [start, end) to <paramref name="target"/>, except <paramref name="skip"/> (rewritten by the caller).</summary>
    private void CopyGroupRows(WriteBatch batch, byte[] start, byte[] end, ShardId target, IEnumerable<byte[]> skip)
    {
        var skipped = new HashSet<byte[]>(skip, ByteArrayComparer.Instance);
        using var it = _db.NewIterator(new ReadOptions { LowerBound = start, UpperBound = end });
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            var key = it.Key.ToArray();
            if (!skipped.Contains(key))
            {
                batch.Put(Rekey(key, target), it.Value.ToArray());
            }
        }
    }

    /// <summary>The same group row (<c>0x01 | shard | tag | ...</c>) of another group.</summary>
    private static byte[] Rekey(byte[] groupKey, ShardId shard)
    {
        var key = (byte[])groupKey.Clone();
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(1), shard.Value);
        return key;
    }

    private List<ShardDescriptor>? _stagedHistory;

    private void ResetSplitStaging()
    {
        _stagedSplits.Clear();
        _stagedHistory = null;
    }

    private void CompleteSplitApply()
    {
        _appliedSplits.AddRange(_stagedSplits);
        _stagedSplits.Clear();
        _stagedHistory = null;
    }
}
