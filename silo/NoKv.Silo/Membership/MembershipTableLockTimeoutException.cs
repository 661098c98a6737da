namespace NoKv.Silo.Membership;

/// <summary>
/// The table's lock file stayed held by another process (or another table instance) for longer than the
/// configured timeout. A holder keeps it for one read-modify-write of a small file, so this means a stuck
/// process or a file system without working locks (some network file systems).
/// </summary>
public sealed class MembershipTableLockTimeoutException : IOException
{
    public MembershipTableLockTimeoutException(string path, TimeSpan timeout)
        : base($"Could not lock membership table lock file '{path}' within {timeout.TotalSeconds:F1}s; another process holds it.")
    {
        LockPath = path;
    }

    public string LockPath { get; }
}
