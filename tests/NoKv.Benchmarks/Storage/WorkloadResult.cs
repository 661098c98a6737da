namespace NoKv.Benchmarks.Storage;

/// <summary>
/// Outcome of one workload on one engine, passed from the engine's child process to the parent as
/// JSON. A workload whose reads returned a wrong or missing value has <see cref="Failure"/> set: its
/// throughput is reported but never counted as a result.
/// </summary>
public sealed class WorkloadResult
{
    public string Name { get; set; } = "";

    public long Operations { get; set; }

    public double Seconds { get; set; }

    public double OpsPerSecond { get; set; }

    /// <summary>Point lookups and seeks that found their key (readrandom, seekrandom); 0 where not applicable.</summary>
    public long Found { get; set; }

    /// <summary>Wrong answers: a missing present key, a present missing key, a wrong value, order or count.</summary>
    public long Mismatches { get; set; }

    /// <summary>Peak resident memory of the engine's process during this workload (-1 when not measurable per phase).</summary>
    public long PeakMemoryBytes { get; set; }

    /// <summary>Managed bytes allocated by the whole process during the workload, per operation (background threads included).</summary>
    public double AllocatedBytesPerOp { get; set; }

    public string? Failure { get; set; }
}
