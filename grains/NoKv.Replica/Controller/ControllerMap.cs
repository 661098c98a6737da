using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Layout;

namespace NoKv.Replica.Controller;

/// <summary>
/// The shard map as committed in the controller (row <see cref="ControllerRows.Map"/>, docs/format-controller.md):
/// every user shard's descriptor (range, epoch, conf version, peers with roles), the map version, and the id
/// allocators, all in one row so that a change to several shards (a split, a merge) and the ids it takes commit
/// atomically with one compare-and-swap. Leaders are not here: they change without the controller and come from
/// heartbeats.
/// <code>
/// version (1) = 1 | map version (8) | next shard id (8) | next peer id (8) | next operation id (8) | shard count (4)
///   | shard count x [ descriptor length (4) | descriptor ]                  little-endian
/// descriptor = a replica state record (docs/format-replica-state.md) with peer id 0
/// </code>
/// </summary>
public sealed record ControllerMap(long Version, long NextShardId, ulong NextPeerId, long NextOperationId, ShardDescriptor[] Shards)
{
    private const byte FormatVersion = 1;
    private const int Header = 1 + 8 + 8 + 8 + 8 + 4;

    /// <summary>Bounds allocation when decoding a damaged row.</summary>
    private const int MaxShards = 1 << 20;

    /// <summary>
    /// The map a new controller starts from: the bootstrap layout's shards; new shard ids start after the largest
    /// bootstrap id, new peer ids above every bootstrap peer id (shard id in the high bits, slot in the low 8).
    /// </summary>
    public static ControllerMap FromBootstrap(ShardMap bootstrap)
    {
        long maxShard = 0;
        ulong maxPeer = 0;
        foreach (var shard in bootstrap.Shards)
        {
            maxShard = Math.Max(maxShard, shard.Id.Value);
            foreach (var peer in shard.Peers)
            {
                maxPeer = Math.Max(maxPeer, peer.PeerId);
            }
        }

        return new ControllerMap(bootstrap.Version, maxShard + 1, Math.Max(maxPeer + 1, (ulong)(maxShard + 1) << 8), 1, bootstrap.Shards);
    }

    public byte[] Encode()
    {
        var descriptors = new byte[Shards.Length][];
        int size = Header;
        for (int i = 0; i < Shards.Length; i++)
        {
            descriptors[i] = ReplicaStateCodec.Encode(new ReplicaState(0, Shards[i]));
            size += 4 + descriptors[i].Length;
        }

        var row = new byte[size];
        var span = row.AsSpan();
        span[0] = FormatVersion;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(span[9..], NextShardId);
        BinaryPrimitives.WriteUInt64LittleEndian(span[17..], NextPeerId);
        BinaryPrimitives.WriteInt64LittleEndian(span[25..], NextOperationId);
        BinaryPrimitives.WriteInt32LittleEndian(span[33..], Shards.Length);
        int at = Header;
        foreach (var descriptor in descriptors)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], descriptor.Length);
            descriptor.CopyTo(span[(at + 4)..]);
            at += 4 + descriptor.Length;
        }

        return row;
    }

    /// <exception cref="InvalidDataException">Not a map row this build can read, or a map that does not cover the key space.</exception>
    public static ControllerMap Decode(ReadOnlySpan<byte> row)
    {
        if (row.Length < Header || row[0] != FormatVersion)
        {
            throw new InvalidDataException(row.IsEmpty ? "empty shard map row" : $"shard map row of version {row[0]} and {row.Length} bytes is unknown to this build");
        }

        long version = BinaryPrimitives.ReadInt64LittleEndian(row[1..]);
        long nextShard = BinaryPrimitives.ReadInt64LittleEndian(row[9..]);
        ulong nextPeer = BinaryPrimitives.ReadUInt64LittleEndian(row[17..]);
        long nextOperation = BinaryPrimitives.ReadInt64LittleEndian(row[25..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(row[33..]);
        if (count < 1 || count > MaxShards || count > (row.Length - Header) / 4)
        {
            throw new InvalidDataException($"shard map row lists {count} shards");
        }

        var shards = new ShardDescriptor[count];
        int at = Header;
        for (int i = 0; i < count; i++)
        {
            if (row.Length - at < 4)
            {
                throw new InvalidDataException("shard map row is truncated");
            }

            int length = BinaryPrimitives.ReadInt32LittleEndian(row[at..]);
            if (length < 0 || length > row.Length - at - 4)
            {
                throw new InvalidDataException("shard map row has a descriptor past its end");
            }

            shards[i] = ReplicaStateCodec.Decode(row.Slice(at + 4, length)).Descriptor;
            at += 4 + length;
        }

        if (at != row.Length)
        {
            throw new InvalidDataException($"shard map row has {row.Length - at} trailing bytes");
        }

        try
        {
            // Validates order and coverage.
            _ = new ShardMap(version, shards, []);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"shard map row does not describe a valid map: {e.Message}", e);
        }

        return new ControllerMap(version, nextShard, nextPeer, nextOperation, shards);
    }
}
