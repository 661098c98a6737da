namespace NoKv.Benchmarks.Ycsb;

/// <summary>One kind of YCSB operation; each has its own latency histogram.</summary>
public enum YcsbOperation
{
    Read,
    Update,
    Insert,
    Scan,
    ReadModifyWrite,
}
