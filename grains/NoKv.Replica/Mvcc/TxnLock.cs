using System.Buffers.Binary;

namespace NoKv.Replica.Mvcc;

/// <summary>
/// A transaction's lock on one key, written by prewrite and removed by commit or rollback
/// (docs/format-data-rows.md):
/// <code>
/// lock = format (1) = 1 | kind (1) | startTs (8) | createdAtMs (8) | ttlMs (8) | primaryLength (4) | primary
///        | hasValue (1) [valueLength (4) | value]                                          little-endian
/// kind = 1 put | 2 delete
/// </code>
/// <see cref="CreatedAtMs"/> is the proposing leader's clock when the prewrite was proposed (it travels in the
/// command, so every replica stores the same value); the lock is expired once a later proposal's clock passes
/// created + ttl. The value waits here until commit copies it into a version.
/// </summary>
internal sealed record TxnLock(TxnLockKind Kind, long StartTs, long CreatedAtMs, long TtlMs, byte[] PrimaryKey, byte[]? Value)
{
    private const byte Format = 1;

    public bool IsExpiredAt(long nowMs) => nowMs >= CreatedAtMs + TtlMs;

    public byte[] Encode()
    {
        var bytes = new byte[1 + 1 + 24 + 4 + PrimaryKey.Length + 1 + (Value is null ? 0 : 4 + Value.Length)];
        var span = bytes.AsSpan();
        span[0] = Format;
        span[1] = (byte)Kind;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], StartTs);
        BinaryPrimitives.WriteInt64LittleEndian(span[10..], CreatedAtMs);
        BinaryPrimitives.WriteInt64LittleEndian(span[18..], TtlMs);
        BinaryPrimitives.WriteInt32LittleEndian(span[26..], PrimaryKey.Length);
        PrimaryKey.CopyTo(span[30..]);
        int at = 30 + PrimaryKey.Length;
        span[at++] = Value is null ? (byte)0 : (byte)1;
        if (Value is not null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], Value.Length);
            Value.CopyTo(span[(at + 4)..]);
        }

        return bytes;
    }

    /// <exception cref="InvalidDataException">The row is not a lock this build reads.</exception>
    public static TxnLock Decode(ReadOnlySpan<byte> row)
    {
        if (row.Length < 31 || row[0] != Format || row[1] is not ((byte)TxnLockKind.Put or (byte)TxnLockKind.Delete))
        {
            throw new InvalidDataException($"Lock row of {row.Length} bytes is not a format-{Format} lock.");
        }

        long start = BinaryPrimitives.ReadInt64LittleEndian(row[2..]);
        long created = BinaryPrimitives.ReadInt64LittleEndian(row[10..]);
        long ttl = BinaryPrimitives.ReadInt64LittleEndian(row[18..]);
        int primaryLength = BinaryPrimitives.ReadInt32LittleEndian(row[26..]);
        if (primaryLength < 0 || primaryLength > row.Length - 31)
        {
            throw new InvalidDataException("Lock row's primary key overruns the row.");
        }

        var primary = row.Slice(30, primaryLength).ToArray();
        int at = 30 + primaryLength;
        byte[]? value = null;
        if (row[at] == 1)
        {
            at++;
            if (row.Length - at < 4)
            {
                throw new InvalidDataException("Lock row is cut inside its value length.");
            }

            int length = BinaryPrimitives.ReadInt32LittleEndian(row[at..]);
            if (length < 0 || length != row.Length - at - 4)
            {
                throw new InvalidDataException("Lock row's value does not end the row.");
            }

            value = row.Slice(at + 4, length).ToArray();
        }
        else if (row[at] != 0 || at + 1 != row.Length)
        {
            throw new InvalidDataException("Lock row has a bad value flag or trailing bytes.");
        }

        return new TxnLock((TxnLockKind)row[1], start, created, ttl, primary, value);
    }
}
