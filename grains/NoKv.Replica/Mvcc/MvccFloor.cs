using System.Buffers.Binary;

namespace NoKv.Replica.Mvcc;

/// <summary>
/// The shard's timestamp state, replicated like data (the floor row on the shard's start key, so it travels in
/// snapshots; docs/format-data-rows.md): <c>format (1) = 1 | readTs (8) | maxTs (8) | safePoint (8)</c>, LE.
/// <list type="bullet">
/// <item><see cref="ReadTs"/>: no snapshot read at a timestamp above it has been or will be served until a
/// committed entry raises it. Versions the shard stamps itself (plain writes, one-phase commits) get a
/// timestamp above it, so a served snapshot never changes afterwards.</item>
/// <item><see cref="MaxTs"/>: the highest commit timestamp of any version in the shard.</item>
/// <item><see cref="SafePoint"/>: versions below it that are shadowed by a newer version at or below it are
/// gone; reads below it are refused.</item>
/// </list>
/// </summary>
internal readonly record struct MvccFloor(long ReadTs, long MaxTs, long SafePoint)
{
    private const byte Format = 1;

    public byte[] Encode()
    {
        var bytes = new byte[25];
        bytes[0] = Format;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), ReadTs);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(9), MaxTs);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(17), SafePoint);
        return bytes;
    }

    public static MvccFloor Decode(ReadOnlySpan<byte> row)
    {
        if (row.Length != 25 || row[0] != Format)
        {
            throw new InvalidDataException($"Timestamp floor row of {row.Length} bytes is not one this build reads.");
        }

        return new MvccFloor(
            BinaryPrimitives.ReadInt64LittleEndian(row[1..]),
            BinaryPrimitives.ReadInt64LittleEndian(row[9..]),
            BinaryPrimitives.ReadInt64LittleEndian(row[17..]));
    }
}
