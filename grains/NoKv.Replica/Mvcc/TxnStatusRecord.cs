using System.Buffers.Binary;

namespace NoKv.Replica.Mvcc;

/// <summary>
/// A transaction's outcome, written on its primary key when it commits or is rolled back
/// (docs/format-data-rows.md): <c>state (1) | commitTs (8, LE; 0 when rolled back)</c>. It is what resolvers
/// of the transaction's other locks ask, and it stops a delayed prewrite of a rolled-back transaction from
/// locking its primary again. Dropped by GC below the safe point.
/// </summary>
internal readonly record struct TxnStatusRecord(TxnState State, long CommitTs)
{
    public byte[] Encode()
    {
        var bytes = new byte[9];
        bytes[0] = (byte)State;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), CommitTs);
        return bytes;
    }

    public static TxnStatusRecord Decode(ReadOnlySpan<byte> row)
    {
        if (row.Length != 9 || row[0] is not ((byte)TxnState.Committed or (byte)TxnState.RolledBack))
        {
            throw new InvalidDataException($"Transaction status row of {row.Length} bytes is not one this build reads.");
        }

        return new TxnStatusRecord((TxnState)row[0], BinaryPrimitives.ReadInt64LittleEndian(row[1..]));
    }
}
