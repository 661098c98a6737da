using System.Buffers.Binary;

namespace NoKv.Raft.Messages;

/// <summary>A single membership change: the payload of an <see cref="EntryType.ConfChange"/> entry.</summary>
/// <remarks>
/// On-disk format (little endian), produced by <see cref="Encode"/> and read by <see cref="Decode"/>:
/// <code>
/// version:u8 (=1) | type:u8 (ConfChangeType) | nodeId:u64 | contextLength:u32 | context:bytes
/// </code>
/// The version byte lets a future joint-consensus change use a different layout.
/// </remarks>
public sealed record ConfChange(ConfChangeType Type, ulong NodeId, ReadOnlyMemory<byte> Context = default)
{
    private const byte FormatVersion = 1;
    private const int HeaderSize = 1 + 1 + 8 + 4;

    public byte[] Encode()
    {
        var buffer = new byte[HeaderSize + Context.Length];
        buffer[0] = FormatVersion;
        buffer[1] = (byte)Type;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(2), NodeId);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(10), (uint)Context.Length);
        Context.Span.CopyTo(buffer.AsSpan(HeaderSize));
        return buffer;
    }

    /// <summary>Decodes a ConfChange entry payload.</summary>
    /// <exception cref="FormatException">The payload is not a valid encoded ConfChange.</exception>
    public static ConfChange Decode(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (span.Length < HeaderSize)
        {
            throw new FormatException($"ConfChange payload is {span.Length} bytes, shorter than the {HeaderSize}-byte header.");
        }

        if (span[0] != FormatVersion)
        {
            throw new FormatException($"ConfChange payload has unknown format version {span[0]}.");
        }

        var type = (ConfChangeType)span[1];
        if (type is not (ConfChangeType.AddNode or ConfChangeType.RemoveNode or ConfChangeType.AddLearnerNode))
        {
            throw new FormatException($"ConfChange payload has unknown change type {span[1]}.");
        }

        var nodeId = BinaryPrimitives.ReadUInt64LittleEndian(span[2..]);
        var contextLength = BinaryPrimitives.ReadUInt32LittleEndian(span[10..]);
        if (contextLength != (uint)(span.Length - HeaderSize))
        {
            throw new FormatException($"ConfChange payload declares a {contextLength}-byte context but carries {span.Length - HeaderSize}.");
        }

        return new ConfChange(type, nodeId, data[HeaderSize..]);
    }
}
