using System.Buffers.Binary;

namespace NoKv.Replica.Mvcc;

/// <summary>
/// The value of a version row (docs/format-data-rows.md):
/// <code>
/// version = flags (1) | [expiresAtMs (8, LE) when flags has 0x02] | value (rest of the row)
/// flags   = 0x01 tombstone (no value follows) | 0x02 expires
/// </code>
/// Flags are on disk: never reuse a bit. A reader that meets an unknown flag refuses the row (corruption or a
/// newer format), it never guesses.
/// </summary>
internal readonly record struct VersionRecord(bool Deleted, long ExpiresAtMs, byte[]? Value)
{
    public const byte TombstoneFlag = 0x01;
    public const byte ExpiresFlag = 0x02;

    public static VersionRecord Put(byte[] value, long expiresAtMs = 0) => new(false, expiresAtMs, value);

    public static readonly VersionRecord Tombstone = new(true, 0, null);

    /// <summary>True when the version holds a value that has not expired at <paramref name="nowMs"/>.</summary>
    public bool IsLive(long nowMs) => !Deleted && (ExpiresAtMs == 0 || nowMs < ExpiresAtMs);

    public byte[] Encode()
    {
        bool expires = ExpiresAtMs != 0;
        var bytes = new byte[1 + (expires ? 8 : 0) + (Deleted ? 0 : Value!.Length)];
        bytes[0] = (byte)((Deleted ? TombstoneFlag : 0) | (expires ? ExpiresFlag : 0));
        int at = 1;
        if (expires)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), ExpiresAtMs);
            at = 9;
        }

        if (!Deleted)
        {
            Value!.CopyTo(bytes, at);
        }

        return bytes;
    }

    /// <exception cref="InvalidDataException">The row is not a version this build reads.</exception>
    public static VersionRecord Decode(ReadOnlySpan<byte> row)
    {
        if (row.IsEmpty || (row[0] & ~(TombstoneFlag | ExpiresFlag)) != 0)
        {
            throw new InvalidDataException($"Version row has flags 0x{(row.IsEmpty ? 0 : row[0]):X2}, unknown to this build.");
        }

        bool deleted = (row[0] & TombstoneFlag) != 0;
        long expires = 0;
        int at = 1;
        if ((row[0] & ExpiresFlag) != 0)
        {
            if (row.Length < 9)
            {
                throw new InvalidDataException("Version row is cut inside its expiry.");
            }

            expires = BinaryPrimitives.ReadInt64LittleEndian(row[1..]);
            at = 9;
        }

        if (deleted && row.Length != at)
        {
            throw new InvalidDataException("Tombstone version row carries a value.");
        }

        return new VersionRecord(deleted, expires, deleted ? null : row[at..].ToArray());
    }
}
