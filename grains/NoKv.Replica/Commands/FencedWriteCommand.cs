using System.Buffers.Binary;

namespace NoKv.Replica.Commands;

/// <summary>
/// A single-key write that carries a fencing token (docs/locks.md); byte by byte in docs/format-commands.md:
/// <code>
/// FencedWrite (45)      = resource length (4) | resource | token (8) | write
/// FencedTimedWrite (51) = resource length (4) | resource | token (8) | timed write
/// </code>
/// where <c>write</c> is exactly the body of a <see cref="CommandType.Write"/> command (<see cref="KvCommand"/>), and
/// <c>timed write</c> that of a <see cref="CommandType.TimedWrite"/> (chosen by whether the write has an expiry). The
/// write applies only if the shard has seen no higher token for the resource; applying it records its token as the
/// resource's highest.
/// </summary>
internal sealed record FencedWriteCommand(byte[] Resource, long Token, KvCommand Write)
{
    public byte[] Encode()
    {
        var write = Write.Encode();
        int body = write.Length - CommandEnvelope.HeaderSize;
        var buffer = new byte[CommandEnvelope.HeaderSize + 4 + Resource.Length + 8 + body];
        var span = buffer.AsSpan();
        CommandEnvelope.WriteHeader(span, Write.Timed ? CommandType.FencedTimedWrite : CommandType.FencedWrite);
        int at = CommandEnvelope.HeaderSize;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], Resource.Length);
        Resource.CopyTo(span[(at + 4)..]);
        at += 4 + Resource.Length;
        BinaryPrimitives.WriteInt64LittleEndian(span[at..], Token);
        write.AsSpan(CommandEnvelope.HeaderSize).CopyTo(span[(at + 8)..]);
        return buffer;
    }

    /// <summary>Decodes the body of an entry whose header is <paramref name="header"/> (type FencedWrite).</summary>
    /// <exception cref="CommandFormatException">The body is malformed.</exception>
    /// <exception cref="UnsupportedCommandException">The write inside has a kind this build does not know.</exception>
    public static FencedWriteCommand Decode(CommandHeader header, ReadOnlySpan<byte> entry)
    {
        if (header.Type is not (CommandType.FencedWrite or CommandType.FencedTimedWrite) || header.IsLegacy)
        {
            throw new CommandFormatException($"Log entry holds a {header.Type} command, not a fenced write.");
        }

        int at = header.BodyOffset;
        if (entry.Length - at < 4)
        {
            throw new CommandFormatException("Fenced write is truncated.");
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(entry[at..]);
        if (length < 0 || length > entry.Length - at - 4 - 8)
        {
            throw new CommandFormatException($"Fenced write has a resource length past its end: {length}.");
        }

        var resource = entry.Slice(at + 4, length).ToArray();
        at += 4 + length;
        long token = BinaryPrimitives.ReadInt64LittleEndian(entry[at..]);
        at += 8;

        // The write inside is a Write body at this offset; decode it as one, with the envelope's version.
        var inner = header.Type == CommandType.FencedTimedWrite ? CommandType.TimedWrite : CommandType.Write;
        var write = KvCommand.Decode(new CommandHeader(header.Version, inner, at), entry);
        return new FencedWriteCommand(resource, token, write);
    }
}
