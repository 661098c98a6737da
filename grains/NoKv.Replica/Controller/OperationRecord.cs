using System.Buffers.Binary;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller;

/// <summary>
/// An operation in progress (row <see cref="ControllerRows.Operation"/>, docs/format-controller.md). An operation is a
/// sequence of steps; <see cref="Step"/> names the next one to do (its meaning depends on <see cref="Kind"/>). Each step
/// is done first and recorded after, with a compare-and-swap on this row: a crash between the two redoes a step whose
/// effect is already there, so every step must check whether it is already done (by the shard's committed descriptor)
/// before acting. The row is deleted when the operation finishes or rolls back.
/// <code>
/// version (1) = 1 | id (8) | kind (1) | shard (8) | step (4) | from store (4, 0 = none) | to store (4, 0 = none)
///   | new peer id (8, 0 = none) | created, Unix ms (8) | step since, Unix ms (8) | argument length (4) | argument
/// </code>
/// The argument is kind-specific (the split key of a split).
/// </summary>
public sealed record OperationRecord(long Id, OperationKind Kind, ShardId Shard, int Step, StoreId? From, StoreId? To, ulong NewPeerId, long CreatedUnixMs, long StepSinceUnixMs, byte[] Argument)
{
    private const byte Version = 1;
    private const int Fixed = 1 + 8 + 1 + 8 + 4 + 4 + 4 + 8 + 8 + 8 + 4;

    public byte[] Encode()
    {
        var row = new byte[Fixed + Argument.Length];
        var span = row.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], Id);
        span[9] = (byte)Kind;
        BinaryPrimitives.WriteInt64LittleEndian(span[10..], Shard.Value);
        BinaryPrimitives.WriteInt32LittleEndian(span[18..], Step);
        BinaryPrimitives.WriteInt32LittleEndian(span[22..], From?.Value ?? 0);
        BinaryPrimitives.WriteInt32LittleEndian(span[26..], To?.Value ?? 0);
        BinaryPrimitives.WriteUInt64LittleEndian(span[30..], NewPeerId);
        BinaryPrimitives.WriteInt64LittleEndian(span[38..], CreatedUnixMs);
        BinaryPrimitives.WriteInt64LittleEndian(span[46..], StepSinceUnixMs);
        BinaryPrimitives.WriteInt32LittleEndian(span[54..], Argument.Length);
        Argument.CopyTo(span[Fixed..]);
        return row;
    }

    /// <exception cref="InvalidDataException">Not an operation row this build can read (a newer build's kind included).</exception>
    public static OperationRecord Decode(ReadOnlySpan<byte> row)
    {
        if (row.Length < Fixed || row[0] != Version)
        {
            throw new InvalidDataException(row.IsEmpty ? "empty operation row" : $"operation row of version {row[0]} and {row.Length} bytes is unknown to this build");
        }

        var kind = (OperationKind)row[9];
        if (kind is not (OperationKind.ReReplicate or OperationKind.MoveReplica or OperationKind.Split or OperationKind.Merge or OperationKind.TransferLeader))
        {
            throw new InvalidDataException($"operation row of kind {row[9]} is unknown to this build");
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(row[54..]);
        if (length < 0 || length != row.Length - Fixed)
        {
            throw new InvalidDataException($"operation row is {row.Length} bytes, its argument says {Fixed + (long)length}");
        }

        int from = BinaryPrimitives.ReadInt32LittleEndian(row[22..]);
        int to = BinaryPrimitives.ReadInt32LittleEndian(row[26..]);
        return new OperationRecord(
            BinaryPrimitives.ReadInt64LittleEndian(row[1..]),
            kind,
            new ShardId(BinaryPrimitives.ReadInt64LittleEndian(row[10..])),
            BinaryPrimitives.ReadInt32LittleEndian(row[18..]),
            from == 0 ? null : new StoreId(from),
            to == 0 ? null : new StoreId(to),
            BinaryPrimitives.ReadUInt64LittleEndian(row[30..]),
            BinaryPrimitives.ReadInt64LittleEndian(row[38..]),
            BinaryPrimitives.ReadInt64LittleEndian(row[46..]),
            row[Fixed..].ToArray());
    }
}
