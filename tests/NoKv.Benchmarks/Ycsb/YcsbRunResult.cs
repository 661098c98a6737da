namespace NoKv.Benchmarks.Ycsb;

/// <summary>What one child process measured: one engine, one workload. Serialized from child to parent as JSON.</summary>
public sealed class YcsbRunResult
{
    public string Engine { get; set; } = "";

    public string Workload { get; set; } = "";

    public long Operations { get; set; }

    public double Seconds { get; set; }

    public double OpsPerSec { get; set; }

    /// <summary>
    /// The child's CPU time (user + system, every thread: clients, flushes, compactions, the collector) over the
    /// run, per operation. Steadier than ops/s on a shared machine, where throughput moves with others' load.
    /// </summary>
    public double CpuMicrosPerOp { get; set; }

    /// <summary>By operation name: read, update, insert, scan, rmw.</summary>
    public Dictionary<string, YcsbOperationStats> Ops { get; set; } = [];

    /// <summary>Records read back and checked (point reads, and every record a scan returned).</summary>
    public long RecordsVerified { get; set; }

    /// <summary>Bytes in the data directory when the run ended, before the engine was closed.</summary>
    public long DiskBytes { get; set; }

    /// <summary>Table files in the data directory at the same moment.</summary>
    public int SstFiles { get; set; }

    /// <summary>Bytes of the table files in the data directory at the same moment.</summary>
    public long SstBytes { get; set; }

    /// <summary>Bytes of the tables the engine's current state references, as the engine reports it (-1 if it does not).</summary>
    public long LiveSstBytes { get; set; } = -1;

    /// <summary>VmHWM of the child process (resident set, mapped table pages included).</summary>
    public long PeakRssBytes { get; set; }

    /// <summary>Largest RssAnon sampled (heaps and stacks, no file pages).</summary>
    public long PeakAnonBytes { get; set; }

    public string? EngineState { get; set; }

    public List<string> Notes { get; set; } = [];

    public string? Error { get; set; }
}
