using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Layout;

/// <summary>
/// The split history row (<see cref="KeySpace.SplitHistoryKey"/>; docs/format-replica-state.md):
/// <code>
/// version (1) = 1 | count (4) | count x [ length (4) | replica state record with peer id 0 ]
/// </code>
/// Oldest first; at most <see cref="MaxEntries"/> (older splits are dropped: a replica that skipped more splits than
/// that in one snapshot is found by the controller, whose map names the replicas the store should hold).
/// </summary>
internal static class SplitHistoryCodec
{
    public const int MaxEntries = 16;

    private const byte Version = 1;

    public static byte[] Encode(IReadOnlyList<ShardDescriptor> shards)
    {
        using var output = new MemoryStream();
        output.WriteByte(Version);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, shards.Count);
        output.Write(length);
        foreach (var shard in shards)
        {
            var record = ReplicaStateCodec.Encode(new ReplicaState(0, shard));
            BinaryPrimitives.WriteInt32LittleEndian(length, record.Length);
            output.Write(length);
            output.Write(record);
        }

        return output.ToArray();
    }

    /// <exception cref="InvalidDataException">An unknown version, a truncated row or trailing bytes.</exception>
    public static List<ShardDescriptor> Decode(ReadOnlySpan<byte> row)
    {
        if (row.Length < 5 || row[0] != Version)
        {
            throw new InvalidDataException($"Split history row of {row.Length} bytes is not a version {Version} row.");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(row[1..]);
        if (count < 0 || count > MaxEntries)
        {
            throw new InvalidDataException($"Split history row lists {count} splits (at most {MaxEntries}).");
        }

        var shards = new List<ShardDescriptor>(count);
        int at = 5;
        for (int i = 0; i < count; i++)
        {
            if (row.Length - at < 4)
            {
                throw new InvalidDataException("Split history row is truncated.");
            }

            int length = BinaryPrimitives.ReadInt32LittleEndian(row[at..]);
            at += 4;
            if (length < 0 || length > row.Length - at)
            {
                throw new InvalidDataException("Split history row has an entry past its end.");
            }

            shards.Add(ReplicaStateCodec.Decode(row.Slice(at, length)).Descriptor);
            at += length;
        }

        if (at != row.Length)
        {
            throw new InvalidDataException($"Split history row has {row.Length - at} trailing bytes.");
        }

        return shards;
    }
}
