namespace NoKv.Cli.Commands;

/// <summary>A failure reported to the user as one line on stderr with exit code 2.</summary>
internal sealed class CliException : Exception
{
    public CliException(string message)
        : base(message)
    {
    }
}
