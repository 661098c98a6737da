namespace NoKv.Benchmarks.BulkLoad;

/// <summary>One engine's bulk load, passed from its child process to the parent as JSON.</summary>
public sealed class BulkLoadResult
{
    public string Engine { get; set; } = "";

    public long Writes { get; set; }

    public long UserBytes { get; set; }

    public double Seconds { get; set; }

    public double MegabytesPerSecond { get; set; }

    /// <summary>Time writers spent in the engine's write stalls (slowdowns and stops), as the engine counts it.</summary>
    public double? StallSeconds { get; set; }

    public double PutP50Us { get; set; }

    public double PutP99Us { get; set; }

    public double PutP999Us { get; set; }

    public double PutMaxMs { get; set; }

    /// <summary>The engine's own (WAL + flush + compaction bytes) / user bytes, over the load.</summary>
    public double? EngineWriteAmplification { get; set; }

    /// <summary>write(2) bytes of the process / user bytes, over the load.</summary>
    public double IoWriteAmplification { get; set; }

    /// <summary>CPU time of the whole process over the load / its wall time: how many of the machine's cores it kept busy.</summary>
    public double CpuCores { get; set; }

    /// <summary>Level-0 table count sampled once a second during the load.</summary>
    public List<int> Level0PerSecond { get; set; } = [];

    /// <summary>Seconds after the last write until level 0 was back under its compaction trigger (-1: not within the wait).</summary>
    public double SettleSeconds { get; set; }

    public string? StateAfter { get; set; }

    public string? Error { get; set; }
}
