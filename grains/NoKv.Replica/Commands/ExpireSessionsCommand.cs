using System.Buffers.Binary;

namespace NoKv.Replica.Commands;

/// <summary>
/// Drops client-session dedupe rows last used before <see cref="CutoffMs"/> (Unix ms, from the proposing leader's
/// clock, so every replica drops the same rows). Layout in docs/format-commands.md:
/// <code>
/// envelope(ExpireSessions) | cutoff (8)        legacy: 3 | cutoff (8)
/// </code>
/// </summary>
internal readonly record struct ExpireSessionsCommand(long CutoffMs)
{
    private const int BodySize = 8;

    public byte[] Encode()
    {
        var buffer = new byte[CommandEnvelope.HeaderSize + BodySize];
        CommandEnvelope.WriteHeader(buffer, CommandType.ExpireSessions);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(CommandEnvelope.HeaderSize), CutoffMs);
        return buffer;
    }

    /// <exception cref="CommandFormatException">Not a well-formed expire-sessions command.</exception>
    /// <exception cref="UnsupportedCommandException">An envelope this build does not read.</exception>
    public static ExpireSessionsCommand Decode(ReadOnlySpan<byte> entry)
    {
        var header = CommandEnvelope.ReadHeader(entry);
        if (header.Type != CommandType.ExpireSessions)
        {
            throw new CommandFormatException($"Log entry holds a {header.Type} command, not expire-sessions.");
        }

        return Decode(header, entry);
    }

    /// <summary>Decodes the body of an entry whose header is <paramref name="header"/> (type ExpireSessions).</summary>
    internal static ExpireSessionsCommand Decode(CommandHeader header, ReadOnlySpan<byte> entry)
    {
        if (entry.Length - header.BodyOffset != BodySize)
        {
            throw new CommandFormatException($"Expire-sessions command has a {entry.Length - header.BodyOffset}-byte body; it is {BodySize} bytes.");
        }

        return new ExpireSessionsCommand(BinaryPrimitives.ReadInt64LittleEndian(entry[header.BodyOffset..]));
    }
}
