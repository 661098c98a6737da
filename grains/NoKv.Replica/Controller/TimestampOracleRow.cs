using System.Buffers.Binary;

namespace NoKv.Replica.Controller;

/// <summary>
/// The persisted high-water mark of the timestamp oracle (row <see cref="ControllerRows.Timestamps"/>,
/// docs/format-controller.md): every timestamp ever handed out is at or below it.
/// <code>
/// version (1) = 1 | high-water mark (8, little-endian, >= 1)
/// </code>
/// </summary>
public static class TimestampOracleRow
{
    private const byte Version = 1;

    public static byte[] Encode(long highWater)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(highWater, 1);
        var row = new byte[9];
        row[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(row.AsSpan(1), highWater);
        return row;
    }

    /// <exception cref="InvalidDataException">Not a row this build can read.</exception>
    public static long Decode(ReadOnlySpan<byte> row)
    {
        if (row.Length != 9 || row[0] != Version)
        {
            throw new InvalidDataException(row.IsEmpty ? "empty timestamp oracle row" : $"timestamp oracle row of version {row[0]} and {row.Length} bytes is unknown to this build");
        }

        long highWater = BinaryPrimitives.ReadInt64LittleEndian(row[1..]);
        if (highWater < 1)
        {
            throw new InvalidDataException($"timestamp oracle row holds high-water mark {highWater}");
        }

        return highWater;
    }
}
