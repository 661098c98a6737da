namespace NoKv.Chaos.Soak;

/// <summary>
/// One minute of a soak: the operations that completed in it (and failed), their latencies, and, sampled at the
/// minute's end, each silo's resident memory and each store's data directory size (index i = store i + 1; -1 = the
/// silo was not running when sampled), the harness's own resident memory, the faults that started in the minute, and
/// each silo's process id (-1 = not running; null from callers that do not know it), which tells one process's RSS
/// series apart from its successor's after a restart, and each silo's anonymous resident memory (RssAnon: the managed
/// heap and native allocations; RSS less the file-backed pages of mapped files and the shared memory of the runtime's
/// jitted code; null from callers that do not know it).
/// </summary>
public sealed record SoakSample(
    int Minute,
    long Operations,
    long Failed,
    double P50Ms,
    double P99Ms,
    double MaxMs,
    double[] RssMiB,
    double[] DiskMiB,
    double HarnessRssMiB,
    string Faults,
    int[]? Pids = null,
    double[]? AnonMiB = null);
