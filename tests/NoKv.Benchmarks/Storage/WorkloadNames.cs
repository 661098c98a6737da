namespace NoKv.Benchmarks.Storage;

/// <summary>Workload names as printed and as keys of the JSON "workloads" object, in run order.</summary>
public static class WorkloadNames
{
    public const string FillSeq = "fillseq";
    public const string FillRandom = "fillrandom";
    public const string Overwrite = "overwrite";
    public const string ReadRandom1 = "readrandom_t1";
    public const string ReadRandom2 = "readrandom_t2";
    public const string ReadMissing = "readmissing";
    public const string SeekRandom = "seekrandom_next10";
    public const string FullScan = "fullscan";
    public const string FillSync = "fillsync";
    public const string FillSyncConcurrent = "fillsync_c32";

    public static IReadOnlyList<string> All { get; } =
    [
        FillSeq, FillRandom, Overwrite, ReadRandom1, ReadRandom2, ReadMissing, SeekRandom, FullScan, FillSync, FillSyncConcurrent,
    ];
}
