using System.Buffers;
using System.Buffers.Binary;
using NoKv.Abstractions.Transactions;

namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// Writes a command's envelope and body with the primitives of docs/format-commands.md (little-endian fixed
/// integers, <c>bytes := length (4) | byte[length]</c>, <c>list := count (4) | items</c>).
/// </summary>
internal sealed class CommandWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(128);

    public CommandWriter(CommandType type)
    {
        CommandEnvelope.WriteHeader(_buffer.GetSpan(CommandEnvelope.HeaderSize), type);
        _buffer.Advance(CommandEnvelope.HeaderSize);
    }

    public void Int64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void Int32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void Byte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void Bytes(ReadOnlySpan<byte> value)
    {
        Int32(value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
    }

    public void OptionalBytes(byte[]? value)
    {
        Byte(value is null ? (byte)0 : (byte)1);
        if (value is not null)
        {
            Bytes(value);
        }
    }

    public void KeyList(byte[][] keys)
    {
        Int32(keys.Length);
        foreach (var key in keys)
        {
            Bytes(key);
        }
    }

    public void Mutations(TxnMutation[] mutations)
    {
        Int32(mutations.Length);
        foreach (var m in mutations)
        {
            Bytes(m.Key);
            OptionalBytes(m.Value);
        }
    }

    public void Ranges(TxnKeyRange[] ranges)
    {
        Int32(ranges.Length);
        foreach (var r in ranges)
        {
            Bytes(r.Start);
            Bytes(r.End);
        }
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}
