using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Layout;
using NoKv.Storage;

namespace NoKv.Replica.Core;

/// <summary>
/// Which replicas one store holds, and the two changes to that set that do not come from a shard's own log:
/// creating an empty replica for a peer the controller is about to add, and destroying a replica whose peer the
/// shard has removed. Both are serialized per engine (<see cref="GateOf"/>), so a destruction that computes which
/// user data rows no other local replica covers cannot interleave with the creation of a replica that will ingest
/// rows in that range.
/// <para>An <b>uninitialized</b> replica is a replica state row whose descriptor does not name its own peer: it
/// has no log, no data and an empty Raft membership, never campaigns, serves nothing, and waits for the leader's
/// snapshot, whose descriptor names it and makes it a full replica (<see cref="ReplicaCore"/>).</para>
/// <para>A <b>tombstone</b> (<see cref="KeySpace.TombstoneKey"/>) records the highest peer id of a shard this store
/// destroyed: no peer at or below it is created, opened or bootstrapped here again, so a removed peer never comes
/// back to life from the bootstrap layout or a late controller retry.</para>
/// </summary>
public static class ReplicaDirectory
{
    private static readonly ConditionalWeakTable<Database, SemaphoreSlim> Gates = new();

    /// <summary>
    /// Writes an uninitialized replica of <paramref name="shard"/> for peer <paramref name="peerId"/> on
    /// <paramref name="store"/>. Idempotent: true when created, false when this very peer already exists here
    /// (initialized or not).
    /// </summary>
    /// <exception cref="ReplicaConflictException">The store holds another peer of the shard, or the peer id was used
    /// here before (at or below the tombstone).</exception>
    public static async Task<bool> CreateAsync(Database db, ShardDescriptor shard, StoreId store, ulong peerId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shard);
        if (peerId == 0 || !store.IsValid)
        {
            throw new ReplicaConflictException($"peer {peerId} on store {store} is not a valid new replica");
        }

        if (shard.Peer(peerId) is { } named && named.Store != store)
        {
            throw new ReplicaConflictException($"peer {peerId} of shard {shard.Id} lives on store {named.Store}, not {store}");
        }

        var gate = GateOf(db);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(true);
        try
        {
            if (db.Get(KeySpace.ReplicaStateKey(shard.Id)) is { } stored)
            {
                var existing = ReplicaStateCodec.Decode(stored);
                if (existing.PeerId == peerId)
                {
                    return false;
                }

                throw new ReplicaConflictException($"store {store} already holds peer {existing.PeerId} of shard {shard.Id}");
            }

            ulong tombstone = Tombstone(db, shard.Id);
            if (peerId <= tombstone)
            {
                throw new ReplicaConflictException($"peer {peerId} of shard {shard.Id} was used on store {store} before (tombstone {tombstone})");
            }

            if (HasGroupRows(db, shard.Id))
            {
                throw new InvalidDataException($"Store {store} holds Raft state for shard {shard.Id} but no replica state.");
            }

            // The descriptor as the controller knows it, without this peer: the replica is uninitialized until a
            // snapshot that names it arrives.
            var without = Array.FindAll(shard.Peers, p => p.PeerId != peerId && p.Store != store);
            var descriptor = new ShardDescriptor(shard.Id, shard.Range, shard.Epoch, shard.ConfVersion, without);
            var batch = new WriteBatch();
            batch.Put(KeySpace.ReplicaStateKey(shard.Id), ReplicaStateCodec.Encode(new ReplicaState(peerId, descriptor)));
            await db.WriteAsync(batch, WriteOptions.Synced).ConfigureAwait(true);
            return true;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Destroys this store's replica of <paramref name="shard"/> if it is peer <paramref name="peerId"/>: its Raft log,
    /// hard state, apply and replica state, sessions and fences, and the user data and lock rows of its range that no
    /// other replica on this store covers; leaves a tombstone at <paramref name="peerId"/>. The caller must have closed
    /// the replica and must know the shard removed the peer. Idempotent: false when there was nothing of that peer.
    /// </summary>
    /// <remarks>
    /// User data rows are keyed by user key, not by shard, and one store may hold replicas of neighbouring shards
    /// (after a split, both halves) whose ranges overlap the destroyed replica's stale range. So only the parts of its
    /// range outside every range still held here are deleted; a range held by an uninitialized replica counts as held,
    /// since its snapshot is about to fill it. A destruction racing a creation is excluded by the per-engine gate.
    /// </remarks>
    public static async Task<bool> DestroyAsync(Database db, ShardId shard, ulong peerId, CancellationToken cancellationToken = default)
    {
        var gate = GateOf(db);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(true);
        try
        {
            if (db.Get(KeySpace.ReplicaStateKey(shard)) is not { } stored || Tombstone(db, shard) >= peerId)
            {
                // Nothing of the peer, or a merge took its range over (its target kept the data and wrote the tombstone):
                // only the group rows its last writes may have left behind go.
                return Tombstone(db, shard) >= peerId && await PurgeGroupAsync(db, shard).ConfigureAwait(true);
            }

            var state = ReplicaStateCodec.Decode(stored);
            if (state.PeerId != peerId)
            {
                return false;
            }

            var batch = new WriteBatch();
            var (groupStart, groupEnd) = KeySpace.GroupRange(shard);
            batch.DeleteRange(groupStart, KeySpace.TombstoneKey(shard));
            batch.DeleteRange(KeySpace.TombstoneEnd(shard), groupEnd);
            var prefix = KeySpace.DataPrefixOf(shard);
            foreach (var (start, end) in Uncovered(db, shard, state.Descriptor.Range))
            {
                var (dataStart, dataEnd) = KeySpace.DataRange(prefix, start, end);
                batch.DeleteRange(dataStart, dataEnd);
                if (prefix == KeySpace.DataPrefix)
                {
                    // Lock records are keyed by lock name under one prefix for every user shard; a system group (the
                    // controller, whose range is its whole own key space) holds none, and deleting "its" lock range
                    // would delete every user shard's lock records on this store.
                    var (lockStart, lockEnd) = KeySpace.LockRange(start, end);
                    batch.DeleteRange(lockStart, lockEnd);
                }
            }

            var tombstone = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(tombstone, Math.Max(peerId, Tombstone(db, shard)));
            batch.Put(KeySpace.TombstoneKey(shard), tombstone);
            await db.WriteAsync(batch, WriteOptions.Synced).ConfigureAwait(true);
            return true;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Deletes every group row of <paramref name="shard"/> but its tombstone; true if there were any.</summary>
    private static async Task<bool> PurgeGroupAsync(Database db, ShardId shard)
    {
        if (!HasGroupRows(db, shard))
        {
            return false;
        }

        var (groupStart, groupEnd) = KeySpace.GroupRange(shard);
        var batch = new WriteBatch();
        batch.DeleteRange(groupStart, KeySpace.TombstoneKey(shard));
        batch.DeleteRange(KeySpace.TombstoneEnd(shard), groupEnd);
        await db.WriteAsync(batch, WriteOptions.Synced).ConfigureAwait(true);
        return true;
    }

    /// <summary>Every replica state on this store, by shard (one engine seek per shard, skipping the logs).</summary>
    public static IReadOnlyList<(ShardId Shard, ulong PeerId, ShardDescriptor Descriptor, bool Initialized)> List(Database db)
    {
        var result = new List<(ShardId, ulong, ShardDescriptor, bool)>();
        using var it = db.NewIterator(new ReadOptions { LowerBound = [KeySpace.GroupPrefix], UpperBound = [KeySpace.GroupPrefix + 1] });
        it.SeekToFirst();
        while (it.Valid)
        {
            var key = it.Key;
            if (key.Length < 9)
            {
                it.Next();
                continue;
            }

            var shard = new ShardId(BinaryPrimitives.ReadInt64BigEndian(key[1..]));
            if (db.Get(KeySpace.ReplicaStateKey(shard)) is { } stored)
            {
                var state = ReplicaStateCodec.Decode(stored);
                result.Add((shard, state.PeerId, state.Descriptor, state.Descriptor.Peer(state.PeerId) is not null));
            }

            it.Seek(KeySpace.GroupRange(shard).End);
        }

        return result;
    }

    /// <summary>The highest peer id of <paramref name="shard"/> destroyed on this store (0 = none).</summary>
    public static ulong Tombstone(Database db, ShardId shard) =>
        db.Get(KeySpace.TombstoneKey(shard)) is { Length: 8 } row ? BinaryPrimitives.ReadUInt64LittleEndian(row) : 0;

    internal static SemaphoreSlim GateOf(Database db) => Gates.GetValue(db, static _ => new SemaphoreSlim(1, 1));

    /// <summary>True if the group holds any row besides its tombstone.</summary>
    internal static bool HasGroupRows(Database db, ShardId shard)
    {
        var (groupStart, groupEnd) = KeySpace.GroupRange(shard);
        using var it = db.NewIterator(new ReadOptions { LowerBound = groupStart, UpperBound = groupEnd });
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            if (!it.Key.SequenceEqual(KeySpace.TombstoneKey(shard)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The parts of <paramref name="range"/> that no other replica on this store covers, in key order.</summary>
    internal static List<(byte[] Start, byte[] End)> Uncovered(Database db, ShardId shard, KeyRange range)
    {
        var held = new List<KeyRange>();
        foreach (var (other, _, descriptor, _) in List(db))
        {
            if (other != shard && KeySpace.DataPrefixOf(other) == KeySpace.DataPrefixOf(shard) && descriptor.Range.Overlaps(range.Start, range.End))
            {
                held.Add(descriptor.Range);
            }
        }

        held.Sort((a, b) => a.Start.AsSpan().SequenceCompareTo(b.Start));
        var pieces = new List<(byte[], byte[])>();
        byte[] cursor = range.Start;
        bool done = false;
        foreach (var h in held)
        {
            if (h.Start.AsSpan().SequenceCompareTo(cursor) > 0)
            {
                var end = range.End.Length != 0 && h.Start.AsSpan().SequenceCompareTo(range.End) > 0 ? range.End : h.Start;
                pieces.Add((cursor, end));
            }

            if (h.End.Length == 0)
            {
                done = true;
                break;
            }

            if (h.End.AsSpan().SequenceCompareTo(cursor) > 0)
            {
                cursor = h.End;
            }
        }

        if (!done && (range.End.Length == 0 || cursor.AsSpan().SequenceCompareTo(range.End) < 0))
        {
            pieces.Add((cursor, range.End));
        }

        return pieces;
    }
}
