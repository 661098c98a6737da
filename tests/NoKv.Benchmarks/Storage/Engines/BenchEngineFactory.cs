namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>Creates engines by their report name.</summary>
public static class BenchEngineFactory
{
    /// <summary>The engines a run uses by default, in the order they run and appear in the table.</summary>
    public static IReadOnlyList<string> Names { get; } = ["nokv", "rocksdb", "zonetree"];

    /// <summary>
    /// Engines run only when named: NoKv with its value log and RocksDB with integrated blob files, both separating
    /// values of at least <see cref="EngineSettings.SeparatedValueMinBytes"/> (for large-value runs, --value-bytes).
    /// </summary>
    public static IReadOnlyList<string> Optional { get; } = ["nokv-vlog", "rocksdb-blob"];

    public static bool IsKnown(string name) => Names.Contains(name) || Optional.Contains(name);

    public static IBenchEngine Open(string name, string path, EngineSettings settings) => name switch
    {
        "nokv" => new NoKvBenchEngine(path, settings),
        "rocksdb" => new RocksDbBenchEngine(path, settings),
        "zonetree" => new ZoneTreeBenchEngine(path, settings),
        "nokv-vlog" => new NoKvBenchEngine(path, settings, separateValues: true),
        "rocksdb-blob" => new RocksDbBenchEngine(path, settings, separateValues: true),
        _ => throw new ArgumentException($"unknown engine '{name}' (known: {string.Join(", ", Names.Concat(Optional))})", nameof(name)),
    };
}
