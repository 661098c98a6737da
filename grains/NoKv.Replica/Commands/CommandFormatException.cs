namespace NoKv.Replica.Commands;

/// <summary>
/// A log entry that is not a well-formed command: truncated, trailing bytes, a length that overruns it, a value
/// no build ever wrote. Either corruption or a bug in a writer; never the result of a rolling upgrade (that is
/// <see cref="UnsupportedCommandException"/>). A replica must neither skip such a committed entry nor crash on it:
/// see docs/format-commands.md for what it does instead.
/// </summary>
internal sealed class CommandFormatException : FormatException
{
    public CommandFormatException(string message)
        : base(message)
    {
    }
}
