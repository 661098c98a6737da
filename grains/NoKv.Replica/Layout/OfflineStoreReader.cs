using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;
using NoKv.Storage;

namespace NoKv.Replica.Layout;

/// <summary>
/// Reads the replica rows of a store's engine (layout in <see cref="KeySpace"/>) through a plain iterator, for offline
/// forensics of a stopped store (NoKv.Storage.Inspection.DatabaseInspector gives the iterator). Rows it cannot decode
/// are reported in the result, not thrown, so one damaged row does not hide the rest.
/// </summary>
public static class OfflineStoreReader
{
    private const int GroupKeyLength = 10;

    /// <summary>Every shard with any row in the engine, in shard order.</summary>
    public static IReadOnlyList<OfflineShardState> ReadShards(StorageIterator iterator)
    {
        ArgumentNullException.ThrowIfNull(iterator);
        var shards = new List<OfflineShardState>();
        OfflineShardState? current = null;
        iterator.Seek([KeySpace.GroupPrefix]);
        while (iterator.Valid && iterator.Key[0] == KeySpace.GroupPrefix)
        {
            ReadOnlySpan<byte> key = iterator.Key;
            if (key.Length < GroupKeyLength)
            {
                iterator.Next();
                continue;
            }

            var shard = new ShardId(BinaryPrimitives.ReadInt64BigEndian(key[1..9]));
            if (current is null || current.Shard != shard)
            {
                current = new OfflineShardState { Shard = shard };
                shards.Add(current);
            }

            byte tag = key[9];
            if (tag == KeySpace.LogKey(shard, 0)[9] && key.Length == 18)
            {
                ReadLog(iterator, current);
                continue;
            }

            ReadRow(iterator.Key, iterator.Value, current);
            iterator.Next();
        }

        foreach (OfflineShardState state in shards)
        {
            CountData(iterator, state);
        }

        return shards;
    }

    private static void ReadRow(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, OfflineShardState state)
    {
        if (key.SequenceEqual(KeySpace.HardStateKey(state.Shard)) && value.Length >= 24)
        {
            state.Term = BinaryPrimitives.ReadUInt64LittleEndian(value);
            state.Vote = BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);
            state.CommitIndex = BinaryPrimitives.ReadUInt64LittleEndian(value[16..]);
        }
        else if (key.SequenceEqual(KeySpace.TruncatedKey(state.Shard)) && value.Length >= 16)
        {
            state.TruncatedIndex = BinaryPrimitives.ReadUInt64LittleEndian(value);
            state.TruncatedTerm = BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);
        }
        else if (key.SequenceEqual(KeySpace.ApplyStateKey(state.Shard)) && value.Length >= 16)
        {
            state.AppliedIndex = BinaryPrimitives.ReadUInt64LittleEndian(value);
            state.AppliedTerm = BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);
        }
        else if (key.SequenceEqual(KeySpace.ReplicaStateKey(state.Shard)))
        {
            try
            {
                ReplicaState replica = ReplicaStateCodec.Decode(value);
                state.PeerId = replica.PeerId;
                state.Descriptor = replica.Descriptor;
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException)
            {
                state.DescriptorError = e.Message;
            }
        }
        else if (key.Length == 26 && key[..GroupKeyLength].SequenceEqual(KeySpace.SessionStart(state.Shard)))
        {
            state.Sessions++;
        }
        else
        {
            state.OtherRows++;
        }
    }

    /// <summary>Positioned on the shard's first log entry: records the log's extent, and leaves the iterator past it.</summary>
    private static void ReadLog(StorageIterator iterator, OfflineShardState state)
    {
        byte[] end = KeySpace.LogEnd(state.Shard);
        state.FirstLogIndex = BinaryPrimitives.ReadUInt64BigEndian(iterator.Key[10..]);
        while (iterator.Valid && iterator.Key.SequenceCompareTo(end) < 0)
        {
            state.LastLogIndex = BinaryPrimitives.ReadUInt64BigEndian(iterator.Key[10..]);
            state.LogEntries++;
            state.LogBytes += iterator.Value.Length;
            iterator.Next();
        }
    }

    private static void CountData(StorageIterator iterator, OfflineShardState state)
    {
        if (state.Descriptor is not { } descriptor)
        {
            return;
        }

        // The controller group's rows live under their own prefix (KeySpace.DataPrefixOf), not among user data.
        (byte[] start, byte[] end) = KeySpace.DataRange(KeySpace.DataPrefixOf(descriptor.Id), descriptor.Range.Start, descriptor.Range.End);
        for (iterator.Seek(start); iterator.Valid && iterator.Key.SequenceCompareTo(end) < 0; iterator.Next())
        {
            state.DataRows++;
            state.DataBytes += iterator.Key.Length - 1 + iterator.Value.Length;
        }
    }
}
