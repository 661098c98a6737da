namespace NoKv.Silo.Membership;

/// <summary>Where the file membership table lives and how long a writer waits for its lock.</summary>
public sealed class FileMembershipOptions
{
    /// <summary>The directory shared by every silo (and file-based client) of the cluster; one machine or one shared file system.</summary>
    public string Directory { get; set; } = "";

    /// <summary>How long an update waits for another holder of the lock before failing (Orleans retries it).</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Client side: how often the gateway list is re-read.</summary>
    public TimeSpan GatewayRefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The table file of a cluster: <c>{Directory}/{clusterId}.membership</c>.</summary>
    public static string TablePath(string directory, string clusterId) => Path.Combine(directory, CheckedName(clusterId) + ".membership");

    /// <summary>The lock file of a cluster: <c>{Directory}/{clusterId}.lock</c>.</summary>
    public static string LockPath(string directory, string clusterId) => Path.Combine(directory, CheckedName(clusterId) + ".lock");

    // The cluster id becomes a file name: refuse anything that could leave the directory or be ambiguous.
    private static string CheckedName(string clusterId)
    {
        if (string.IsNullOrWhiteSpace(clusterId) || clusterId.Length > 100)
        {
            throw new ArgumentException($"Cluster id '{clusterId}' cannot name a membership file (1-100 characters).", nameof(clusterId));
        }

        foreach (char c in clusterId)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || clusterId.StartsWith('.'))
            {
                throw new ArgumentException($"Cluster id '{clusterId}' cannot name a membership file: use letters, digits, '-', '_' and '.' (not first).", nameof(clusterId));
            }
        }

        return clusterId;
    }
}
