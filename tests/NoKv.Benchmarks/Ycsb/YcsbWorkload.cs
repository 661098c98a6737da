namespace NoKv.Benchmarks.Ycsb;

/// <summary>
/// One YCSB core workload: the mix of operations and the request distribution, as YCSB's workloads/workload[a-f]
/// files define them. Load inserts every record once, in record order (keys hashed, so in random key order).
/// </summary>
public sealed record YcsbWorkload(string Name, string Description, double Read, double Update, double Insert, double Scan, double ReadModifyWrite, YcsbDistribution Distribution)
{
    /// <summary>Longest scan of workload E; lengths are uniform in [1, this].</summary>
    public const int MaxScanLength = 100;

    public static YcsbWorkload Load { get; } = new("load", "insert every record", 0, 0, 1, 0, 0, YcsbDistribution.Zipfian);

    public static YcsbWorkload A { get; } = new("a", "50% read, 50% update, zipfian", 0.5, 0.5, 0, 0, 0, YcsbDistribution.Zipfian);

    public static YcsbWorkload B { get; } = new("b", "95% read, 5% update, zipfian", 0.95, 0.05, 0, 0, 0, YcsbDistribution.Zipfian);

    public static YcsbWorkload C { get; } = new("c", "100% read, zipfian", 1, 0, 0, 0, 0, YcsbDistribution.Zipfian);

    public static YcsbWorkload D { get; } = new("d", "95% read, 5% insert, latest", 0.95, 0, 0.05, 0, 0, YcsbDistribution.Latest);

    public static YcsbWorkload E { get; } = new("e", "95% scan (1-100 records, uniform), 5% insert, zipfian", 0, 0, 0.05, 0.95, 0, YcsbDistribution.Zipfian);

    public static YcsbWorkload F { get; } = new("f", "50% read, 50% read-modify-write, zipfian", 0.5, 0, 0, 0, 0.5, YcsbDistribution.Zipfian);

    /// <summary>In the order they run, each on the database the previous one left (as YCSB's own sequence does, with E after D rather than on a fresh load).</summary>
    public static IReadOnlyList<YcsbWorkload> All { get; } = [Load, A, B, C, D, E, F];

    public bool IsLoad => Name == "load";

    public static YcsbWorkload Parse(string name)
    {
        foreach (YcsbWorkload w in All)
        {
            if (w.Name == name)
            {
                return w;
            }
        }

        throw new ArgumentException($"unknown YCSB workload '{name}' (known: {string.Join(", ", All.Select(w => w.Name))})");
    }

    /// <summary>The operation a uniform draw <paramref name="u"/> in [0, 1) selects.</summary>
    public YcsbOperation Choose(double u)
    {
        if ((u -= Read) < 0)
        {
            return YcsbOperation.Read;
        }

        if ((u -= Update) < 0)
        {
            return YcsbOperation.Update;
        }

        if ((u -= Scan) < 0)
        {
            return YcsbOperation.Scan;
        }

        if ((u -= ReadModifyWrite) < 0)
        {
            return YcsbOperation.ReadModifyWrite;
        }

        return YcsbOperation.Insert;
    }
}
