using System.Buffers.Binary;
using NoKv.Abstractions.Errors;

namespace NoKv.Replica.StateMachine;

/// <summary>
/// The dedupe table row of one client session in one shard: the last sequence applied, its outcome, and
/// when it was proposed (for expiry). Format: sequence (8, LE) | code (1) | succeeded (1) | last used,
/// Unix ms (8, LE; absent in rows written before expiry existed, read as 0).
/// </summary>
internal readonly record struct SessionRecord(long Sequence, NoKvErrorCode Code, bool Succeeded, long LastUsedMs)
{
    public byte[] Encode()
    {
        var value = new byte[18];
        BinaryPrimitives.WriteInt64LittleEndian(value, Sequence);
        value[8] = (byte)Code;
        value[9] = Succeeded ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(value.AsSpan(10), LastUsedMs);
        return value;
    }

    public static SessionRecord Decode(ReadOnlySpan<byte> value) =>
        new(BinaryPrimitives.ReadInt64LittleEndian(value), (NoKvErrorCode)value[8], value[9] != 0,
            value.Length >= 18 ? BinaryPrimitives.ReadInt64LittleEndian(value[10..]) : 0);
}
