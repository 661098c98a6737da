namespace NoKv.Benchmarks.Ycsb;

/// <summary>How a YCSB workload picks the record an operation touches.</summary>
public enum YcsbDistribution
{
    /// <summary>Scrambled zipfian over the records present when the run started.</summary>
    Zipfian,

    /// <summary>Zipfian over recency: the most recently inserted records are the most popular (workload D).</summary>
    Latest,
}
