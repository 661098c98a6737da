namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>Point lookups for one thread. Not thread-safe; reuses its buffers between calls.</summary>
public interface IBenchReader : IDisposable
{
    /// <summary>
    /// Looks <paramref name="key"/> up. Returns false when absent. When present, <see cref="Value"/>
    /// holds the value until the next call.
    /// </summary>
    bool TryGet(ReadOnlySpan<byte> key);

    ReadOnlySpan<byte> Value { get; }
}
