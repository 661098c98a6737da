namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// What one system runs: every mix at every concurrency for <see cref="Duration"/>, after a warm-up of each mix.
/// <see cref="Timeline"/> logs each measured point's latency per quarter second.
/// </summary>
internal sealed record Plan(TimeSpan Duration, TimeSpan WarmUpPerMix, int KeyCount, IReadOnlyList<ClusterMix> Mixes, IReadOnlyList<int> Concurrencies, bool Timeline = false);
