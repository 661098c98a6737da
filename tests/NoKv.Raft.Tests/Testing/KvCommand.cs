using System.Buffers.Binary;
using System.Text;

namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// A write to the simulated key-value state machine: set <see cref="Key"/> to the id of the operation
/// (<see cref="OpId"/>), so every value identifies the write that produced it. Optional padding makes
/// entries and snapshots as large as a scenario wants.
/// </summary>
/// <remarks>
/// Encoding (little endian): <c>magic:u8 (=0x4B) | opId:u64 | keyLength:u16 | key:utf8 | padding:bytes</c>.
/// The magic byte lets the state machine tell commands from the empty no-op entries leaders append.
/// </remarks>
public readonly record struct KvCommand(ulong OpId, string Key, int Padding = 0)
{
    private const byte Magic = 0x4B;
    private const int HeaderSize = 1 + 8 + 2;

    public byte[] Encode()
    {
        var keyBytes = Encoding.UTF8.GetBytes(Key);
        var buffer = new byte[HeaderSize + keyBytes.Length + Padding];
        buffer[0] = Magic;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(1), OpId);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(9), checked((ushort)keyBytes.Length));
        keyBytes.CopyTo(buffer.AsSpan(HeaderSize));
        for (var i = HeaderSize + keyBytes.Length; i < buffer.Length; i++)
        {
            buffer[i] = (byte)(OpId + (ulong)i);
        }

        return buffer;
    }

    /// <summary>Decodes a command; false for payloads that are not commands (no-ops).</summary>
    /// <exception cref="FormatException">The payload starts like a command but is truncated.</exception>
    public static bool TryDecode(ReadOnlySpan<byte> data, out KvCommand command)
    {
        command = default;
        if (data.IsEmpty || data[0] != Magic)
        {
            return false;
        }

        if (data.Length < HeaderSize)
        {
            throw new FormatException($"KV command of {data.Length} bytes is shorter than its {HeaderSize}-byte header.");
        }

        var opId = BinaryPrimitives.ReadUInt64LittleEndian(data[1..]);
        var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(data[9..]);
        if (data.Length < HeaderSize + keyLength)
        {
            throw new FormatException($"KV command declares a {keyLength}-byte key but carries {data.Length - HeaderSize} bytes.");
        }

        var key = Encoding.UTF8.GetString(data.Slice(HeaderSize, keyLength));
        command = new KvCommand(opId, key, data.Length - HeaderSize - keyLength);
        return true;
    }
}
