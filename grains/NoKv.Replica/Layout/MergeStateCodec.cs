using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Layout;

/// <summary>
/// Encodes <see cref="MergeState"/> (key <see cref="KeySpace.MergeStateKey"/>; docs/format-replica-state.md).
/// Little-endian, version first:
/// <code>
/// version (1) = 1 | target shard (8) | prepare index (8) | prepare term (8)
/// </code>
/// </summary>
internal static class MergeStateCodec
{
    private const byte Version = 1;
    private const int Size = 25;

    public static byte[] Encode(MergeState state)
    {
        var row = new byte[Size];
        row[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(row.AsSpan(1), state.Target.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(row.AsSpan(9), state.PrepareIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(row.AsSpan(17), state.PrepareTerm);
        return row;
    }

    /// <exception cref="InvalidDataException">Not a merge state this build can read.</exception>
    public static MergeState Decode(ReadOnlySpan<byte> row)
    {
        if (row.Length != Size || row[0] != Version)
        {
            throw new InvalidDataException(row.IsEmpty ? "empty merge state" : $"merge state of unknown version {row[0]} or length {row.Length}");
        }

        return new MergeState(
            new ShardId(BinaryPrimitives.ReadInt64LittleEndian(row[1..])),
            BinaryPrimitives.ReadUInt64LittleEndian(row[9..]),
            BinaryPrimitives.ReadUInt64LittleEndian(row[17..]));
    }
}
