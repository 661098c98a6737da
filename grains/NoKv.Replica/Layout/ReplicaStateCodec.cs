using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Layout;

/// <summary>
/// Encodes <see cref="ReplicaState"/> (key <see cref="KeySpace.ReplicaStateKey"/>). Little-endian; documented in
/// docs/format-replica-state.md; the version byte comes first so a future layout can be told apart:
/// <code>
/// version (1) = 1 | peer id (8) | shard id (8) | epoch (8) | conf version (8)
///   | start length (4) | start | end length (4) | end      (empty end = unbounded)
///   | peer count (4) | peer count x [ peer id (8) | store id (4) | role (1) ]
/// </code>
/// </summary>
internal static class ReplicaStateCodec
{
    private const byte Version = 1;

    /// <summary>Far above any real group (a Raft group has at most a handful of members); bounds allocation on decode.</summary>
    private const int MaxPeers = 64;

    public static byte[] Encode(ReplicaState state)
    {
        var d = state.Descriptor;
        int size = 1 + 8 + 8 + 8 + 8 + 4 + d.Range.Start.Length + 4 + d.Range.End.Length + 4 + (d.Peers.Length * 13);
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(span[1..], state.PeerId);
        BinaryPrimitives.WriteInt64LittleEndian(span[9..], d.Id.Value);
        BinaryPrimitives.WriteInt64LittleEndian(span[17..], d.Epoch);
        BinaryPrimitives.WriteInt64LittleEndian(span[25..], d.ConfVersion);
        int at = 33;
        at = PutBytes(span, at, d.Range.Start);
        at = PutBytes(span, at, d.Range.End);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], d.Peers.Length);
        at += 4;
        foreach (var peer in d.Peers)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[at..], peer.PeerId);
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 8)..], peer.Store.Value);
            span[at + 12] = (byte)peer.Role;
            at += 13;
        }

        return buffer;
    }

    /// <exception cref="InvalidDataException">The bytes are not a replica state this build can read.</exception>
    public static ReplicaState Decode(ReadOnlySpan<byte> data)
    {
        try
        {
            if (data.Length < 33 || data[0] != Version)
            {
                throw new InvalidDataException(data.Length == 0 ? "empty replica state" : $"replica state of unknown version {data[0]} or truncated ({data.Length} bytes)");
            }

            ulong peerId = BinaryPrimitives.ReadUInt64LittleEndian(data[1..]);
            var shard = new ShardId(BinaryPrimitives.ReadInt64LittleEndian(data[9..]));
            long epoch = BinaryPrimitives.ReadInt64LittleEndian(data[17..]);
            long confVersion = BinaryPrimitives.ReadInt64LittleEndian(data[25..]);
            int at = 33;
            var start = GetBytes(data, ref at);
            var end = GetBytes(data, ref at);
            int count = ReadInt32(data, ref at);
            if (count < 0 || count > MaxPeers || count > (data.Length - at) / 13)
            {
                throw new InvalidDataException($"replica state lists {count} peers");
            }

            var peers = new PeerDescriptor[count];
            for (int i = 0; i < count; i++)
            {
                peers[i] = new PeerDescriptor(
                    BinaryPrimitives.ReadUInt64LittleEndian(data[at..]),
                    new StoreId(BinaryPrimitives.ReadInt32LittleEndian(data[(at + 8)..])),
                    (PeerRole)data[at + 12]);
                at += 13;
            }

            if (at != data.Length)
            {
                throw new InvalidDataException($"replica state has {data.Length - at} trailing bytes");
            }

            return new ReplicaState(peerId, new ShardDescriptor(shard, new KeyRange(start, end), epoch, confVersion, peers));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"replica state holds an invalid shard descriptor: {e.Message}", e);
        }
    }

    private static int PutBytes(Span<byte> span, int at, byte[] bytes)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], bytes.Length);
        bytes.CopyTo(span[(at + 4)..]);
        return at + 4 + bytes.Length;
    }

    private static int ReadInt32(ReadOnlySpan<byte> data, ref int at)
    {
        if (data.Length - at < 4)
        {
            throw new InvalidDataException("replica state is truncated");
        }

        int value = BinaryPrimitives.ReadInt32LittleEndian(data[at..]);
        at += 4;
        return value;
    }

    private static byte[] GetBytes(ReadOnlySpan<byte> data, ref int at)
    {
        int length = ReadInt32(data, ref at);
        if (length < 0 || length > data.Length - at)
        {
            throw new InvalidDataException("replica state field overruns the record");
        }

        var bytes = data.Slice(at, length).ToArray();
        at += length;
        return bytes;
    }
}
