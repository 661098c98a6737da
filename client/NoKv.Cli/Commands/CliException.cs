namespace NoKv.Cli.Commands;

/// <summary>A failure reported to the user as one line on stderr with exit code 2; <see cref="Code"/> names it in JSON output.</summary>
internal sealed class CliException : Exception
{
    public CliException(string message, string code = "invalid")
        : base(message)
    {
        Code = code;
    }

    /// <summary>A stable snake_case name for scripts: invalid, unavailable, not_a_store, store_in_use, corrupt.</summary>
    public string Code { get; }
}
