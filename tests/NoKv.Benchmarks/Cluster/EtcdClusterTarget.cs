using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// etcd through its gRPC API (dotnet-etcd). Puts are acknowledged by etcd after the entry is
/// committed, i.e. fsynced on a majority; ranges are linearizable (etcd's default, not serializable),
/// which matches NoKV's consistency. Several HTTP/2 connections are allowed so that hundreds of
/// concurrent calls are not capped by one connection's stream limit.
/// </summary>
public sealed class EtcdClusterTarget : IClusterTarget
{
    private readonly EtcdClient _client;

    /// <param name="endpoints">Comma-separated client URLs.</param>
    /// <param name="serverProcessIds">The members' processes, for CPU accounting (empty for a cluster not started here).</param>
    public EtcdClusterTarget(string endpoints, IReadOnlyList<int> serverProcessIds)
    {
        ServerProcessIds = serverProcessIds;
        _client = new EtcdClient(endpoints, configureChannelOptions: options =>
        {
            options.HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            };
        });
    }

    public string Name => "etcd";

    public IReadOnlyList<int> ServerProcessIds { get; }

    public async ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        var request = new PutRequest { Key = ByteString.CopyFrom(key.Span), Value = ByteString.CopyFrom(value.Span) };
        await _client.PutAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        var request = new RangeRequest { Key = ByteString.CopyFrom(key.Span) };
        var response = await _client.GetAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Count > 0;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
