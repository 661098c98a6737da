using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Layout;
using NoKv.Raft.Messages;
using NoKv.Raft.Storage;
using NoKv.Storage;
using Snapshot = NoKv.Raft.Messages.Snapshot;

namespace NoKv.Replica.Log;

/// <summary>
/// One Raft group's durable log and hard state in the silo's engine (layout in <see cref="KeySpace"/>).
/// Reads implement <see cref="IRaftStorage"/>; writes are staged into the caller's <see cref="WriteBatch"/>
/// (so one Ready is one atomic, group-committed engine write) and made visible to reads by the matching
/// <c>Commit*</c> call after that write completes.
/// Memory: the term of every retained entry (8 bytes each; compaction bounds the count).
/// Thread safety: none; used only from its replica grain's turns, and never between GetReady and the
/// completion of the Ready's write (the Ready discipline of RawNode guarantees Raft does not read then).
/// </summary>
internal sealed class RaftLogStore : IRaftStorage
{
    private readonly Database _db;
    private readonly ShardId _shard;
    private readonly ConfState _confState;
    private readonly List<ulong> _terms = new();
    private readonly Func<Snapshot> _snapshotFactory;
    private HardState _hardState;
    private ulong _truncatedIndex;
    private ulong _truncatedTerm;

    private RaftLogStore(Database db, ShardId shard, ConfState confState, Func<Snapshot> snapshotFactory)
    {
        _db = db;
        _shard = shard;
        _confState = confState;
        _snapshotFactory = snapshotFactory;
    }

    public HardState HardState => _hardState;

    /// <summary>Loads the group's persisted state. A group never written to loads as empty (term 0, no entries).</summary>
    public static RaftLogStore Load(Database db, ShardId shard, ConfState confState, Func<Snapshot> snapshotFactory)
    {
        var store = new RaftLogStore(db, shard, confState, snapshotFactory);
        if (db.Get(KeySpace.HardStateKey(shard)) is { } hs)
        {
            store._hardState = new HardState(
                BinaryPrimitives.ReadUInt64LittleEndian(hs),
                BinaryPrimitives.ReadUInt64LittleEndian(hs.AsSpan(8)),
                BinaryPrimitives.ReadUInt64LittleEndian(hs.AsSpan(16)));
        }

        if (db.Get(KeySpace.TruncatedKey(shard)) is { } t)
        {
            store._truncatedIndex = BinaryPrimitives.ReadUInt64LittleEndian(t);
            store._truncatedTerm = BinaryPrimitives.ReadUInt64LittleEndian(t.AsSpan(8));
        }

        if (db.Get(KeySpace.LeaseFreeTermKey(shard)) is { Length: 8 } leaseFree)
        {
            store.LeaseFreeTerm = BinaryPrimitives.ReadUInt64LittleEndian(leaseFree);
        }

        using var it = db.NewIterator(new ReadOptions { LowerBound = KeySpace.LogKey(shard, store._truncatedIndex + 1), UpperBound = KeySpace.LogEnd(shard) });
        ulong expected = store._truncatedIndex + 1;
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            ulong index = BinaryPrimitives.ReadUInt64BigEndian(it.Key[10..]);
            if (index != expected)
            {
                throw new InvalidDataException($"Shard {shard}: Raft log has a gap: expected index {expected}, found {index}.");
            }

            store._terms.Add(BinaryPrimitives.ReadUInt64LittleEndian(it.Value));
            expected++;
        }

        return store;
    }

    /// <summary>The group's lease-free term (see <see cref="StageInitialState"/>), 0 for a group not created whole by a split.</summary>
    public ulong LeaseFreeTerm { get; private set; }

    public RaftInitialState InitialState() => new(_hardState, _confState);

    public ulong FirstIndex() => _truncatedIndex + 1;

    public ulong LastIndex() => _truncatedIndex + (ulong)_terms.Count;

    public ulong Term(ulong i)
    {
        if (i == _truncatedIndex)
        {
            return _truncatedTerm;
        }

        if (i < _truncatedIndex)
        {
            throw new LogCompactedException(i, FirstIndex());
        }

        if (i > LastIndex())
        {
            throw new LogUnavailableException(i, LastIndex());
        }

        return _terms[(int)(i - _truncatedIndex - 1)];
    }

    public void Entries(ulong lo, ulong hi, ulong maxSize, List<Entry> output)
    {
        if (lo <= _truncatedIndex)
        {
            throw new LogCompactedException(lo, FirstIndex());
        }

        if (hi > LastIndex() + 1)
        {
            throw new LogUnavailableException(hi - 1, LastIndex());
        }

        ulong size = 0;
        using var it = _db.NewIterator(new ReadOptions { LowerBound = KeySpace.LogKey(_shard, lo), UpperBound = KeySpace.LogKey(_shard, hi) });
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            var value = it.Value;
            var entry = new Entry(
                BinaryPrimitives.ReadUInt64LittleEndian(value),
                BinaryPrimitives.ReadUInt64BigEndian(it.Key[10..]),
                (EntryType)value[8],
                value[9..].ToArray());
            size += entry.Size;
            if (output.Count > 0 && size > maxSize)
            {
                return;
            }

            output.Add(entry);
        }
    }

    /// <summary>
    /// The state machine's snapshot. One taken earlier (exported in the background) whose index the log has since been
    /// compacted or replaced past would leave the follower short of entries; it is dropped and a new one asked for at
    /// once (which a background export answers with "temporarily unavailable" until it is done).
    /// </summary>
    public Snapshot Snapshot()
    {
        var snapshot = _snapshotFactory();
        if (snapshot.Metadata.Index < _truncatedIndex)
        {
            // Useless to Raft (the log was replaced past it): release its staging file and export anew.
            snapshot.Payload?.Dispose();
            snapshot = _snapshotFactory();
            if (snapshot.Metadata.Index < _truncatedIndex)
            {
                snapshot.Payload?.Dispose();
                throw new SnapshotTemporarilyUnavailableException();
            }
        }

        return snapshot;
    }

    /// <summary>Stages <paramref name="entries"/>, replacing any persisted suffix from their first index.</summary>
    public void StageAppend(WriteBatch batch, ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return;
        }

        ulong first = entries[0].Index;
        if (first <= LastIndex())
        {
            batch.DeleteRange(KeySpace.LogKey(_shard, first), KeySpace.LogEnd(_shard));
        }

        foreach (ref readonly var entry in entries)
        {
            var data = entry.Data.Span;
            var value = new byte[9 + data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(value, entry.Term);
            value[8] = (byte)entry.Type;
            data.CopyTo(value.AsSpan(9));
            batch.Put(KeySpace.LogKey(_shard, entry.Index), value);
        }
    }

    /// <summary>Makes staged entries visible to reads, after their write completed.</summary>
    public void CommitAppend(ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return;
        }

        ulong first = entries[0].Index;
        int keep = (int)Math.Min((ulong)_terms.Count, first - _truncatedIndex - 1);
        _terms.RemoveRange(keep, _terms.Count - keep);
        foreach (ref readonly var entry in entries)
        {
            _terms.Add(entry.Term);
        }
    }

    public void StageHardState(WriteBatch batch, HardState hs)
    {
        var value = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(value, hs.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(8), hs.Vote);
        BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(16), hs.Commit);
        batch.Put(KeySpace.HardStateKey(_shard), value);
    }

    public void CommitHardState(HardState hs) => _hardState = hs;

    /// <summary>Stages dropping the whole log in favour of a snapshot at (index, term).</summary>
    public void StageSnapshot(WriteBatch batch, ulong index, ulong term)
    {
        batch.DeleteRange(KeySpace.LogKey(_shard, 0), KeySpace.LogEnd(_shard));
        StageTruncated(batch, index, term);
    }

    public void CommitSnapshot(ulong index, ulong term)
    {
        _terms.Clear();
        _truncatedIndex = index;
        _truncatedTerm = term;
    }

    /// <summary>Stages discarding entries up to and including <paramref name="index"/> (which must be applied).</summary>
    public void StageCompact(WriteBatch batch, ulong index)
    {
        batch.DeleteRange(KeySpace.LogKey(_shard, 0), KeySpace.LogKey(_shard, index + 1));
        StageTruncated(batch, index, Term(index));
    }

    public void CommitCompact(ulong index)
    {
        ulong term = Term(index);
        int drop = (int)(index - _truncatedIndex);
        _terms.RemoveRange(0, drop);
        _truncatedIndex = index;
        _truncatedTerm = term;
    }

    /// <summary>
    /// Stages the Raft state of a group created by a split on this store (docs/replica.md, "Split"): an empty log
    /// truncated at (<paramref name="index"/>, <paramref name="term"/>), a hard state at that term with nothing voted
    /// and that index committed. Every replica of the new group starts from the same state, so the group elects a
    /// leader without a snapshot; a peer that has no state at all is behind the first index and gets one.
    /// </summary>
    public static void StageInitialState(WriteBatch batch, ShardId shard, ulong index, ulong term)
    {
        var hs = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(hs, term);
        BinaryPrimitives.WriteUInt64LittleEndian(hs.AsSpan(16), index);
        batch.Put(KeySpace.HardStateKey(shard), hs);
        var truncated = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(truncated, index);
        BinaryPrimitives.WriteUInt64LittleEndian(truncated.AsSpan(8), term);
        batch.Put(KeySpace.TruncatedKey(shard), truncated);

        // Every replica of the group starts at this term with no leader, so none is ever elected in it: a replica
        // restarting still at this term owes no lease (RaftConfig.LeaseFreeTerm) and may vote at once.
        var leaseFree = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(leaseFree, term);
        batch.Put(KeySpace.LeaseFreeTermKey(shard), leaseFree);
    }

    private void StageTruncated(WriteBatch batch, ulong index, ulong term)
    {
        var value = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(value, index);
        BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(8), term);
        batch.Put(KeySpace.TruncatedKey(_shard), value);
    }
}
