namespace NoKv.Benchmarks.Storage;

/// <summary>Everything one engine's child process measured; written as JSON to the file the parent named.</summary>
public sealed class EngineRunResult
{
    public string Engine { get; set; } = "";

    public List<string> Notes { get; set; } = [];

    public List<WorkloadResult> Workloads { get; set; } = [];

    /// <summary>The engine's own write-amplification figure over the fillrandom/overwrite database, if it reports one.</summary>
    public double? EngineWriteAmplification { get; set; }

    /// <summary>write(2) bytes of the process while the fillrandom/overwrite database was open, over user bytes written to it.</summary>
    public double? IoWriteAmplification { get; set; }

    /// <summary>Size of the fillrandom/overwrite database directory after all its workloads.</summary>
    public long DiskBytes { get; set; }

    /// <summary>Peak resident memory of the whole child process.</summary>
    public long PeakMemoryBytes { get; set; }

    /// <summary>Set when the engine could not finish the run (an exception); workloads before it are kept.</summary>
    public string? Error { get; set; }
}
