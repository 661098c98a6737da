using System.Runtime.CompilerServices;

namespace NoKv.Replica.Commands;

/// <summary>
/// The frame of every command in a Raft log entry; byte by byte, with the legacy tags and the rules for
/// unknown versions and types, in docs/format-commands.md:
/// <code>
/// entry    = magic 0xCE (1) | version (1) | type (1) | body        version 1, written by this build
///          | tag (1) | legacy body                                 tags 1, 2, 3: read only (older logs)
/// </code>
/// The magic is not a legacy tag, so the first byte tells the two apart; builds before the envelope refuse an
/// entry that starts with it rather than misread it. A type's body never changes once shipped: a new layout is a
/// new <see cref="CommandType"/>; <see cref="CurrentVersion"/> changes only if the frame itself does.
/// </summary>
internal static class CommandEnvelope
{
    /// <summary>First byte of an enveloped command.</summary>
    public const byte Magic = 0xCE;

    /// <summary>The envelope version this build writes. Never reuse a number.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The oldest envelope version this build reads (legacy tags aside).</summary>
    public const byte MinVersion = 1;

    public const int HeaderSize = 3;

    /// <summary>Legacy tag 1: a write without the proposer's timestamp.</summary>
    internal const byte LegacyWriteTag = 1;

    /// <summary>Legacy tag 2: a write with the proposer's timestamp.</summary>
    internal const byte LegacyTimedWriteTag = 2;

    /// <summary>Legacy tag 3: expire sessions.</summary>
    internal const byte LegacyExpireSessionsTag = 3;

    /// <summary>Writes the current version's header for <paramref name="type"/>; the body follows at <see cref="HeaderSize"/>.</summary>
    public static void WriteHeader(Span<byte> destination, CommandType type)
    {
        destination[0] = Magic;
        destination[1] = CurrentVersion;
        destination[2] = (byte)type;
    }

    /// <summary>Reads the version and type of the command in <paramref name="entry"/> without decoding its body.</summary>
    /// <exception cref="CommandFormatException">The entry is empty, starts with neither the magic nor a legacy tag,
    /// is cut inside its header, or names version 0 or type 0 (never written).</exception>
    /// <exception cref="UnsupportedCommandException">A newer envelope version, or a command type this build does not know.</exception>
    public static CommandHeader ReadHeader(ReadOnlySpan<byte> entry)
    {
        // What every entry this build writes looks like; everything else (legacy tags, refusals) is out of line.
        if (entry.Length >= HeaderSize && entry[0] == Magic && entry[1] == CurrentVersion && IsKnown((CommandType)entry[2]))
        {
            return new CommandHeader(CurrentVersion, (CommandType)entry[2], HeaderSize);
        }

        return ReadOtherHeader(entry);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CommandHeader ReadOtherHeader(ReadOnlySpan<byte> entry)
    {
        if (entry.IsEmpty)
        {
            throw new CommandFormatException("Log entry is empty, not a command.");
        }

        switch (entry[0])
        {
            case LegacyWriteTag:
            case LegacyTimedWriteTag:
                return new CommandHeader(0, CommandType.Write, 1);
            case LegacyExpireSessionsTag:
                return new CommandHeader(0, CommandType.ExpireSessions, 1);
            case Magic:
                break;
            default:
                throw new CommandFormatException($"Log entry starts with 0x{entry[0]:X2}, neither the command magic 0x{Magic:X2} nor a legacy tag (1-3).");
        }

        if (entry.Length < HeaderSize)
        {
            throw new CommandFormatException($"Command header is cut short ({entry.Length} of {HeaderSize} bytes).");
        }

        byte version = entry[1];
        byte type = entry[2];
        if (version < MinVersion)
        {
            throw new CommandFormatException($"Command envelope names version {version}, which is never written.");
        }

        if (version > CurrentVersion)
        {
            throw new UnsupportedCommandException(version, type, $"a command of type {type}");
        }

        if (IsKnown((CommandType)type))
        {
            return new CommandHeader(version, (CommandType)type, HeaderSize);
        }

        return (CommandType)type switch
        {
            CommandType.None => throw new CommandFormatException("Command envelope names type 0, which is never written."),
            _ => throw new UnsupportedCommandException(version, type, $"command type {type}, unknown to this build"),
        };
    }

    /// <summary>The command types this build applies.</summary>
    public static bool IsKnown(CommandType type) =>
        type is CommandType.Write or CommandType.ExpireSessions or CommandType.Split or CommandType.PreferLeader
            or CommandType.PrepareMerge or CommandType.CommitMerge or CommandType.RollbackMerge
            or (>= CommandType.TxnPrewrite and <= CommandType.TxnOnePhasePrimary)
            or (>= CommandType.AcquireLock and <= CommandType.FencedWrite)
            or CommandType.TimedWrite or CommandType.FencedTimedWrite;

    /// <summary>Like <see cref="ReadHeader"/>, but false instead of an exception.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> entry, out CommandHeader header)
    {
        if ((!entry.IsEmpty && entry[0] is LegacyWriteTag or LegacyTimedWriteTag or LegacyExpireSessionsTag)
            || (entry.Length >= HeaderSize && entry[0] == Magic && entry[1] is >= MinVersion and <= CurrentVersion && IsKnown((CommandType)entry[2])))
        {
            header = ReadHeader(entry);
            return true;
        }

        header = default;
        return false;
    }
}
