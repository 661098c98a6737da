using System.Buffers.Binary;

namespace NoKv.Replica.Mvcc;

/// <summary>
/// The shard's timestamp state, replicated like data (the floor row on the shard's start key, so it travels in
/// snapshots; docs/format-data-rows.md):
/// <code>
/// format 1: format (1) = 1 | readTs (8) | maxTs (8) | safePoint (8)                    LE, not unanchored
/// format 2: format (1) = 2 | readTs (8) | maxTs (8) | safePoint (8) | unanchored (1)   written only while the flag is set
/// </code>
/// <list type="bullet">
/// <item><see cref="ReadTs"/>: no snapshot read at a timestamp above it has been or will be served until a
/// committed entry raises it. Versions the shard stamps itself (plain writes, one-phase commits) get a
/// timestamp above it, so a served snapshot never changes afterwards.</item>
/// <item><see cref="MaxTs"/>: the highest commit timestamp of any version in the shard.</item>
/// <item><see cref="SafePoint"/>: versions below it that are shadowed by a newer version at or below it are
/// gone; reads below it are refused.</item>
/// <item><see cref="Unanchored"/>: the shard holds plain writes stamped and acknowledged without the oracle
/// (docs/transactions.md, "Plain writes without the oracle"); transactional reads, validations, prewrites and
/// one-phase commits are refused until a <c>TxnAnchor</c> clears it and raises the safe point.</item>
/// </list>
/// </summary>
internal readonly record struct MvccFloor(long ReadTs, long MaxTs, long SafePoint, bool Unanchored = false)
{
    private const byte Format = 1;
    private const byte UnanchoredFormat = 2;

    public byte[] Encode()
    {
        // Format 1 while anchored, so a shard that never lost the oracle writes what older builds read.
        var bytes = new byte[Unanchored ? 26 : 25];
        bytes[0] = Unanchored ? UnanchoredFormat : Format;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), ReadTs);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(9), MaxTs);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(17), SafePoint);
        if (Unanchored)
        {
            bytes[25] = 1;
        }

        return bytes;
    }

    public static MvccFloor Decode(ReadOnlySpan<byte> row)
    {
        bool v1 = row.Length == 25 && row[0] == Format;
        bool v2 = row.Length == 26 && row[0] == UnanchoredFormat && row[25] <= 1;
        if (!v1 && !v2)
        {
            throw new InvalidDataException($"Timestamp floor row of {row.Length} bytes (format {(row.IsEmpty ? 0 : row[0])}) is not one this build reads.");
        }

        return new MvccFloor(
            BinaryPrimitives.ReadInt64LittleEndian(row[1..]),
            BinaryPrimitives.ReadInt64LittleEndian(row[9..]),
            BinaryPrimitives.ReadInt64LittleEndian(row[17..]),
            v2 && row[25] == 1);
    }

    /// <summary>The floor of a range made of two shards' (a merge, a reload): each bound the higher, unanchored if either is.</summary>
    public MvccFloor Combine(MvccFloor other) => new(
        Math.Max(ReadTs, other.ReadTs), Math.Max(MaxTs, other.MaxTs), Math.Max(SafePoint, other.SafePoint), Unanchored || other.Unanchored);
}
