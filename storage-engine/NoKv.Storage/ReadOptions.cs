namespace NoKv.Storage;

/// <summary>Per-read settings.</summary>
public sealed class ReadOptions
{
    /// <summary>Read as of this snapshot; null reads the latest committed state.</summary>
    public Snapshot? Snapshot { get; set; }

    /// <summary>When false, blocks read for this operation are not inserted into the block cache (scans).</summary>
    public bool FillCache { get; set; } = true;

    /// <summary>Inclusive lower bound for iterators; null is unbounded.</summary>
    public byte[]? LowerBound { get; set; }

    /// <summary>Exclusive upper bound for iterators; null is unbounded.</summary>
    public byte[]? UpperBound { get; set; }
}
