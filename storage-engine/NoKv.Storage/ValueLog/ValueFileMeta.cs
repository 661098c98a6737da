namespace NoKv.Storage.ValueLog;

/// <summary>
/// One live value file as the manifest records it: its totals (fixed when written) and the garbage counted
/// since (values whose table entries compaction dropped or relocated). Reference counted by the versions
/// whose tables point into it; the file is deleted when the last such version is gone.
/// </summary>
/// <remarks>
/// Garbage is only a heuristic for choosing what to collect (<see cref="LiveRatio"/>): whether the file may be
/// deleted is decided by references alone, so a miscount can delay a collection but never lose a value.
/// </remarks>
internal sealed class ValueFileMeta
{
    private int _refs;
    private long _garbageCount;
    private long _garbageBytes;

    public ValueFileMeta(ulong number, long fileSize, long entryCount, long valueBytes, long garbageCount = 0, long garbageBytes = 0)
    {
        Number = number;
        FileSize = fileSize;
        EntryCount = entryCount;
        ValueBytes = valueBytes;
        _garbageCount = garbageCount;
        _garbageBytes = garbageBytes;
    }

    public ulong Number { get; }

    /// <summary>Length of the file in bytes.</summary>
    public long FileSize { get; }

    /// <summary>Values written to the file.</summary>
    public long EntryCount { get; }

    /// <summary>Sum of the values' lengths.</summary>
    public long ValueBytes { get; }

    public long GarbageCount => Interlocked.Read(ref _garbageCount);

    public long GarbageBytes => Interlocked.Read(ref _garbageBytes);

    /// <summary>Share of the value bytes still referenced (1 for an empty file).</summary>
    public double LiveRatio => ValueBytes == 0 ? 1 : Math.Max(0, 1 - ((double)GarbageBytes / ValueBytes));

    /// <summary>Counts values that no table references any more. Called by the manifest's version builder.</summary>
    public void AddGarbage(long count, long bytes)
    {
        Interlocked.Add(ref _garbageCount, count);
        Interlocked.Add(ref _garbageBytes, bytes);
    }

    public void Ref() => Interlocked.Increment(ref _refs);

    /// <summary>True when the last reference is gone (no version holds the file any more).</summary>
    public bool Unref() => Interlocked.Decrement(ref _refs) == 0;
}
