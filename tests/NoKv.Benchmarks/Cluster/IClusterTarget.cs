namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// A replicated key-value system under the cluster workload (NoKV through its client, or etcd).
/// Implementations must be safe for many concurrent calls. A write completes only once it is
/// durable on a majority; a read is linearizable. Buffers passed in may be reused by the caller as
/// soon as the returned task completes.
/// </summary>
public interface IClusterTarget : IAsyncDisposable
{
    /// <summary>System name as used in the report and JSON (nokv, etcd).</summary>
    string Name { get; }

    /// <summary>The server processes (silos, etcd members) whose CPU time is charged to the workload; empty if unknown.</summary>
    IReadOnlyList<int> ServerProcessIds { get; }

    ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken);

    /// <summary>Returns true when the key exists.</summary>
    ValueTask<bool> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken);
}
