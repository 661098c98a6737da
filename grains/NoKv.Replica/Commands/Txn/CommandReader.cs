using System.Buffers.Binary;
using NoKv.Abstractions.Transactions;

namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// Reads what <see cref="CommandWriter"/> wrote, trusting no length before checking it against the entry:
/// anything short, overlong or malformed is a <see cref="CommandFormatException"/> naming the command.
/// </summary>
internal ref struct CommandReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _what;
    private int _at;

    public CommandReader(ReadOnlySpan<byte> data, int bodyOffset, string what)
    {
        _data = data;
        _at = bodyOffset;
        _what = what;
    }

    public long Int64()
    {
        Need(8);
        long value = BinaryPrimitives.ReadInt64LittleEndian(_data[_at..]);
        _at += 8;
        return value;
    }

    public int Int32()
    {
        Need(4);
        int value = BinaryPrimitives.ReadInt32LittleEndian(_data[_at..]);
        _at += 4;
        return value;
    }

    public byte Byte()
    {
        Need(1);
        return _data[_at++];
    }

    public byte[] Bytes()
    {
        int length = Int32();
        if (length < 0 || length > _data.Length - _at)
        {
            throw new CommandFormatException($"{_what} command has a field length {length} past its end.");
        }

        var bytes = _data.Slice(_at, length).ToArray();
        _at += length;
        return bytes;
    }

    public byte[]? OptionalBytes()
    {
        byte flag = Byte();
        return flag switch
        {
            0 => null,
            1 => Bytes(),
            _ => throw new CommandFormatException($"{_what} command has a presence flag {flag}, not 0 or 1."),
        };
    }

    public byte[][] KeyList()
    {
        int count = Count(4);
        var keys = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            keys[i] = Bytes();
        }

        return keys;
    }

    public TxnMutation[] Mutations()
    {
        int count = Count(5);
        var mutations = new TxnMutation[count];
        for (int i = 0; i < count; i++)
        {
            mutations[i] = new TxnMutation(Bytes(), OptionalBytes());
        }

        return mutations;
    }

    public TxnKeyRange[] Ranges()
    {
        int count = Count(8);
        var ranges = new TxnKeyRange[count];
        for (int i = 0; i < count; i++)
        {
            ranges[i] = new TxnKeyRange(Bytes(), Bytes());
        }

        return ranges;
    }

    /// <summary>REQUIRES: the whole body was read.</summary>
    public readonly void End()
    {
        if (_at != _data.Length)
        {
            throw new CommandFormatException($"{_what} command has {_data.Length - _at} trailing bytes.");
        }
    }

    /// <summary>A list count, checked against the smallest size its items can have.</summary>
    private int Count(int minItemSize)
    {
        int count = Int32();
        if (count < 0 || (long)count * minItemSize > _data.Length - _at)
        {
            throw new CommandFormatException($"{_what} command has a list of {count} items that cannot fit its body.");
        }

        return count;
    }

    private readonly void Need(int bytes)
    {
        if (_data.Length - _at < bytes)
        {
            throw new CommandFormatException($"{_what} command is truncated at offset {_at}.");
        }
    }
}
