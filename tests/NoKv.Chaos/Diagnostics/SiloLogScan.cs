using System.Globalization;

namespace NoKv.Chaos.Diagnostics;

/// <summary>Reads facts out of the silo logs a run keeps (each line starts with its UTC timestamp).</summary>
public static class SiloLogScan
{
    /// <summary>
    /// Replicas that became leader in [<paramref name="from"/>, <paramref name="to"/>] over every log (the replica core
    /// logs each role change: "Replica S/N#P is Leader in term T"). In a run without faults each one is a spurious
    /// election: a follower stopped hearing its leader for an election timeout although nothing failed.
    /// </summary>
    public static int LeadersElected(IEnumerable<string> logPaths, DateTime from, DateTime to) => Count(logPaths, " is Leader in term ", from, to);

    /// <summary>
    /// Election timeouts that fired in [<paramref name="from"/>, <paramref name="to"/>]: replicas that became
    /// pre-candidates (a leadership transfer campaigns without pre-vote, so it is not counted). Without faults, each is a
    /// follower that did not hear its leader for an election timeout although nothing failed: the figure to watch when
    /// shortening the election timeout on a loaded machine.
    /// </summary>
    public static int ElectionTimeouts(IEnumerable<string> logPaths, DateTime from, DateTime to) => Count(logPaths, " is PreCandidate in term ", from, to);

    private static int Count(IEnumerable<string> logPaths, string marker, DateTime from, DateTime to)
    {
        int count = 0;
        foreach (string path in logPaths)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length > 24 && line.Contains(marker, StringComparison.Ordinal)
                    && DateTime.TryParseExact(line[..24], "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
                    && at >= from && at <= to)
                {
                    count++;
                }
            }
        }

        return count;
    }
}
