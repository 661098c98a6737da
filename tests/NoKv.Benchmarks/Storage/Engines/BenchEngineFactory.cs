namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>Creates engines by their report name.</summary>
public static class BenchEngineFactory
{
    /// <summary>All engines, in the order they run and appear in the table.</summary>
    public static IReadOnlyList<string> Names { get; } = ["nokv", "rocksdb", "zonetree"];

    public static IBenchEngine Open(string name, string path, EngineSettings settings) => name switch
    {
        "nokv" => new NoKvBenchEngine(path, settings),
        "rocksdb" => new RocksDbBenchEngine(path, settings),
        "zonetree" => new ZoneTreeBenchEngine(path, settings),
        _ => throw new ArgumentException($"unknown engine '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };
}
