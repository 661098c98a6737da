using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using NoKv.Chaos.Workload;

namespace NoKv.Chaos.Etcd;

/// <summary>
/// The workload's operations against etcd (the anchor), with the retries a careful etcd client makes: every attempt has
/// a deadline (the same attempt timeout NoKV's SDK uses), reads are retried on any failure until the operation
/// timeout, writes only when etcd certainly did not take them (no connection to any member, or the member said it has
/// no leader), because etcd has no exactly-once sessions: a write retried after an ambiguous failure could apply twice.
/// Reads are etcd's default linearizable ranges, like NoKV's gets. One client spreads calls over every member
/// (dotnet-etcd's round-robin over the endpoints); any member forwards a write to its leader.
/// </summary>
public sealed class EtcdTarget : IKvTarget, IDisposable
{
    private readonly EtcdClient _client;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeSpan _operationTimeout;

    public EtcdTarget(string endpoints, TimeSpan attemptTimeout, TimeSpan operationTimeout)
    {
        _client = new EtcdClient(endpoints, configureChannelOptions: options =>
        {
            options.HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                ConnectTimeout = attemptTimeout,
            };
        });
        _attemptTimeout = attemptTimeout;
        _operationTimeout = operationTimeout;
    }

    public async Task<byte[]?> GetAsync(byte[] key)
    {
        var response = await CallAsync(deadline => _client.GetAsync(new RangeRequest { Key = ByteString.CopyFrom(key) }, deadline: deadline), write: false).ConfigureAwait(false);
        return response.Count > 0 ? response.Kvs[0].Value.ToByteArray() : null;
    }

    public Task PutAsync(byte[] key, byte[] value) =>
        CallAsync(deadline => _client.PutAsync(new PutRequest { Key = ByteString.CopyFrom(key), Value = ByteString.CopyFrom(value) }, deadline: deadline), write: true);

    public Task DeleteAsync(byte[] key) =>
        CallAsync(deadline => _client.DeleteAsync(new DeleteRangeRequest { Key = ByteString.CopyFrom(key) }, deadline: deadline), write: true);

    public async Task<bool> CompareAndSwapAsync(byte[] key, byte[]? expected, byte[]? value)
    {
        var k = ByteString.CopyFrom(key);
        var txn = new TxnRequest();
        txn.Compare.Add(expected is null
            ? new Compare { Key = k, Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = 0 }
            : new Compare { Key = k, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = ByteString.CopyFrom(expected) });
        txn.Success.Add(value is null
            ? new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = k } }
            : new RequestOp { RequestPut = new PutRequest { Key = k, Value = ByteString.CopyFrom(value) } });
        var response = await CallAsync(deadline => _client.TransactionAsync(txn, deadline: deadline), write: true).ConfigureAwait(false);
        return response.Succeeded;
    }

    public void Dispose() => _client.Dispose();

    private async Task<T> CallAsync<T>(Func<DateTime, Task<T>> call, bool write)
    {
        var started = DateTime.UtcNow;
        var backoff = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            try
            {
                return await call(DateTime.UtcNow + _attemptTimeout).ConfigureAwait(false);
            }
            catch (RpcException e) when ((!write || NotTaken(e)) && DateTime.UtcNow - started + backoff < _operationTimeout)
            {
                await Task.Delay(backoff * (0.5 + (Random.Shared.NextDouble() * 0.5))).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromMilliseconds(500).Ticks));
            }
        }
    }

    /// <summary>Failures after which etcd certainly did not apply a write: no connection was made, or no leader took it.</summary>
    private static bool NotTaken(RpcException e) =>
        e.StatusCode == StatusCode.Unavailable
        && (e.Status.Detail.Contains("no leader", StringComparison.Ordinal)
            || e.Status.Detail.Contains("Error connecting", StringComparison.Ordinal)
            || e.Status.Detail.Contains("Connection refused", StringComparison.Ordinal));
}
