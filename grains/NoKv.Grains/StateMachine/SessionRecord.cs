using System.Buffers.Binary;
using NoKv.Abstractions.Errors;

namespace NoKv.Grains.StateMachine;

/// <summary>
/// The dedupe table row of one client session in one shard: the last sequence applied and its outcome.
/// Format: sequence (8, LE) | code (1) | succeeded (1).
/// </summary>
internal readonly record struct SessionRecord(long Sequence, NoKvErrorCode Code, bool Succeeded)
{
    public byte[] Encode()
    {
        var value = new byte[10];
        BinaryPrimitives.WriteInt64LittleEndian(value, Sequence);
        value[8] = (byte)Code;
        value[9] = Succeeded ? (byte)1 : (byte)0;
        return value;
    }

    public static SessionRecord Decode(ReadOnlySpan<byte> value) =>
        new(BinaryPrimitives.ReadInt64LittleEndian(value), (NoKvErrorCode)value[8], value[9] != 0);
}
