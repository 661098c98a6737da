namespace NoKv.Silo.Startup;

/// <summary>
/// A start-up failure an operator can fix, with the process exit code to report. Printed as one line,
/// never as a stack trace. Exit codes: 2 invalid configuration, 3 port in use, 4 data directory or store
/// unusable, 5 the silo failed to join or start, 6 the store's disk is full or failing (at start, or later when the
/// engine stopped accepting writes): unlike 2-4, restarting helps once space is freed, so supervisors restart on it.
/// </summary>
public sealed class StartupError : Exception
{
    public const int InvalidConfiguration = 2;
    public const int PortInUse = 3;
    public const int StoreUnusable = 4;
    public const int StartFailed = 5;
    public const int StorageFailed = 6;

    public StartupError(int exitCode, string message)
        : base(message) => ExitCode = exitCode;

    public int ExitCode { get; }
}
