using System.Buffers.Binary;

namespace NoKv.Replica.Mvcc;

/// <summary>
/// The shard's timestamp state, replicated like data (the floor row on the shard's start key, so it travels in
/// snapshots; docs/format-data-rows.md):
/// <code>
/// format 1: format (1) = 1 | readTs (8) | maxTs (8) | safePoint (8)                    LE, not unanchored
/// format 2: format (1) = 2 | readTs (8) | maxTs (8) | safePoint (8) | unanchored (1)   written only while the flag is set
/// format 3: format (1) = 3 | readTs (8) | maxTs (8) | safePoint (8) | unanchored (1) | lockFloor (8) | statusFloor (8)
///           written only once a lock or status floor is set (status collection, docs/transactions.md "GC")
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
/// <item><see cref="LockFloor"/>: no prewrite or one-phase commit whose transaction started below it is accepted, so no
/// lock below it appears here any more; raised by GC rounds (TxnCollect) to what a transaction inside the lifetime is
/// above.</item>
/// <item><see cref="StatusFloor"/>: the cluster's status-collection point as last known here: no lock of a transaction
/// that started below it exists on any shard, or ever will. Status rows below it may be gone, and a question about
/// such a transaction whose row is gone is answered "no longer known", never "rolled back".</item>
/// </list>
/// </summary>
internal readonly record struct MvccFloor(long ReadTs, long MaxTs, long SafePoint, bool Unanchored = false, long LockFloor = 0, long StatusFloor = 0)
{
    private const byte Format = 1;
    private const byte UnanchoredFormat = 2;
    private const byte CollectingFormat = 3;

    public byte[] Encode()
    {
        // The oldest format that holds the fields, so a shard that never lost the oracle and never collected a status
        // row writes what older builds read.
        bool collecting = LockFloor != 0 || StatusFloor != 0;
        var bytes = new byte[collecting ? 42 : Unanchored ? 26 : 25];
        bytes[0] = collecting ? CollectingFormat : Unanchored ? UnanchoredFormat : Format;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), ReadTs);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(9), MaxTs);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(17), SafePoint);
        if (bytes.Length > 25)
        {
            bytes[25] = Unanchored ? (byte)1 : (byte)0;
        }

        if (collecting)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(26), LockFloor);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(34), StatusFloor);
        }

        return bytes;
    }

    public static MvccFloor Decode(ReadOnlySpan<byte> row)
    {
        bool v1 = row.Length == 25 && row[0] == Format;
        bool v2 = row.Length == 26 && row[0] == UnanchoredFormat && row[25] <= 1;
        bool v3 = row.Length == 42 && row[0] == CollectingFormat && row[25] <= 1;
        if (!v1 && !v2 && !v3)
        {
            throw new InvalidDataException($"Timestamp floor row of {row.Length} bytes (format {(row.IsEmpty ? 0 : row[0])}) is not one this build reads.");
        }

        return new MvccFloor(
            BinaryPrimitives.ReadInt64LittleEndian(row[1..]),
            BinaryPrimitives.ReadInt64LittleEndian(row[9..]),
            BinaryPrimitives.ReadInt64LittleEndian(row[17..]),
            !v1 && row[25] == 1,
            v3 ? BinaryPrimitives.ReadInt64LittleEndian(row[26..]) : 0,
            v3 ? BinaryPrimitives.ReadInt64LittleEndian(row[34..]) : 0);
    }

    /// <summary>
    /// The floor of a range made of two shards' (a merge, a reload): each bound the higher, unanchored if either is.
    /// The higher lock floor refuses more prewrites, which is always allowed; the higher status floor is a fact about
    /// the whole cluster, so it holds for the merged range too.
    /// </summary>
    public MvccFloor Combine(MvccFloor other) => new(
        Math.Max(ReadTs, other.ReadTs), Math.Max(MaxTs, other.MaxTs), Math.Max(SafePoint, other.SafePoint), Unanchored || other.Unanchored,
        Math.Max(LockFloor, other.LockFloor), Math.Max(StatusFloor, other.StatusFloor));
}
