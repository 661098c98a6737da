namespace NoKv.IntegrationTests.External;

/// <summary>Finds the Debian-packaged servers the membership tests run (installed by .ci/run when missing).</summary>
public static class ExternalTool
{
    /// <summary>PostgreSQL 15's server binaries (postgresql-15).</summary>
    public const string PostgresBin = "/usr/lib/postgresql/15/bin";

    public static string? RedisServer => Find("redis-server");

    public static string? Jq => Find("jq");

    public static string? Postgres => File.Exists(Path.Combine(PostgresBin, "postgres")) && File.Exists(Path.Combine(PostgresBin, "initdb")) ? PostgresBin : null;

    public static bool IsRoot => Environment.UserName == "root";

    private static string? Find(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Append("/usr/sbin"))
        {
            string path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }
}
