namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>
/// One storage engine under test, opened on one directory. Adapters use each engine's fastest public
/// API for the operation (span overloads, allocation-free reads where the engine offers them) so the
/// comparison measures engines, not adapter overhead.
/// Thread safety: <see cref="Put"/> and <see cref="CreateReader"/> may be called from many threads at
/// once; each <see cref="IBenchReader"/> and <see cref="IBenchIterator"/> belongs to one thread.
/// </summary>
public interface IBenchEngine : IDisposable
{
    /// <summary>Engine name as used in the report and JSON (nokv, rocksdb, zonetree).</summary>
    string Name { get; }

    /// <summary>How the shared settings were mapped onto this engine, and any deviation from them.</summary>
    IReadOnlyList<string> Notes { get; }

    /// <summary>Writes one key; when <paramref name="sync"/> is true, returns only once the write is durable.</summary>
    void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool sync);

    IBenchReader CreateReader();

    IBenchIterator CreateIterator();

    /// <summary>Moves everything in memory to on-disk tables and waits for it.</summary>
    void Flush();

    /// <summary>The engine's own write-amplification figure (disk bytes written / user bytes written), if it reports one.</summary>
    double? EngineWriteAmplification();

    /// <summary>A one-line summary of the engine's internal state (levels, caches, stalls) for the notes, if it offers one.</summary>
    string? DescribeState();

    /// <summary>Bytes of the table files the engine's current state references (its live data on disk), if it reports them.</summary>
    long? LiveTableBytes() => null;

    /// <summary>Tables in level 0 now, if the engine reports it (the bulkload benchmark samples it every second).</summary>
    int? Level0Files() => null;

    /// <summary>Total time writers have spent in write stalls (slowdowns and stops) so far, if the engine counts it.</summary>
    double? StallSeconds() => null;

    /// <summary>Diagnostic: what the engine's write buffers hold now, one short line (null when it cannot say).</summary>
    string? DescribeMemory() => null;
}
