namespace NoKv.Client.Timestamps;

/// <summary>
/// Timestamps from the cluster's timestamp oracle (docs/controller.md): strictly increasing across the whole cluster,
/// and each one larger than every timestamp handed to anyone before the call was made. Thread-safe.
/// </summary>
public interface ITimestampSource
{
    /// <summary>One timestamp. Concurrent callers share one request to the oracle.</summary>
    /// <exception cref="Abstractions.Errors.NoKvTimeoutException">The oracle did not answer within the client's operation timeout.</exception>
    ValueTask<long> GetTimestampAsync(CancellationToken cancellationToken = default);
}
