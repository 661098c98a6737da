using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Client;
using NoKv.Client.Admin;
using NoKv.Client.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// NoKV through its client SDK: an Orleans client host connected to the cluster's gateways, and
/// <see cref="IKvStore"/> on top. Puts complete once the entry is committed, i.e. fsynced on a majority of
/// the shard's replicas, and applied; gets are linearizable (the client's default, a ReadIndex read at the
/// shard leader). Both match what the etcd side measures. Thread-safe, as IKvStore is.
/// </summary>
public sealed class NoKvClusterTarget : IClusterTarget
{
    private readonly IHost _host;
    private readonly IKvStore _store;
    private readonly INoKvAdmin _admin;

    private NoKvClusterTarget(IHost host, IReadOnlyList<int> serverProcessIds)
    {
        _host = host;
        ServerProcessIds = serverProcessIds;
        _store = host.Services.GetRequiredService<IKvStore>();
        _admin = host.Services.GetRequiredService<INoKvAdmin>();
    }

    public string Name => "nokv";

    /// <summary>The client host's services (the SDK's other entry points, e.g. the timestamp source).</summary>
    public IServiceProvider Services => _host.Services;

    public IReadOnlyList<int> ServerProcessIds { get; }

    /// <summary>
    /// Connects an Orleans client to <paramref name="gateways"/>. Orleans logs warnings and errors to stderr.
    /// <paramref name="serverProcessIds"/> are the silos, for CPU accounting.
    /// </summary>
    public static async Task<NoKvClusterTarget> ConnectAsync(string clusterId, IPEndPoint[] gateways, IReadOnlyList<int> serverProcessIds, CancellationToken cancellationToken, Action<NoKvClientOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(gateways);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            });
        });
        builder.Services.AddNoKvClient(configure);
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new NoKvClusterTarget(host, serverProcessIds);
    }

    public async ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken) =>
        await _store.PutAsync(key, value, cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken) =>
        await _store.GetAsync(key, options: null, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>
    /// Waits until the cluster serves: every shard has a leader and a put/get round trip on a key of every
    /// shard succeeds. Then waits (best effort, at most <paramref name="balanceWait"/>) until each shard's
    /// leader sits on its preferred store (its first replica), so that leadership transfers of the silos'
    /// leader balancing do not land in the measured runs. Prints where the leaders are.
    /// </summary>
    public async Task WaitUntilServingAsync(TimeSpan deadline, TimeSpan balanceWait, TextWriter log, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        ClusterStatus status;
        while (true)
        {
            string problem;
            try
            {
                status = await _admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
                problem = DescribeMissingLeaders(status);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                status = null!;
                problem = $"{exception.GetType().Name}: {exception.Message}";
            }
            if (problem.Length == 0)
            {
                break;
            }
            if (Stopwatch.GetElapsedTime(start) > deadline)
            {
                throw new TimeoutException($"the NoKV cluster did not elect leaders within {deadline.TotalSeconds:F0} s: {problem}");
            }
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }

        // A round trip per shard: a key at the shard's range start (the first shard gets a one-byte key below
        // every benchmark key). Keys and values here never collide with the workload's keys.
        var value = Encoding.ASCII.GetBytes("nokv-bench-probe");
        foreach (var shard in status.Map.Shards)
        {
            byte[] key = shard.Range.Start.Length == 0 ? [0x01] : shard.Range.Start;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(deadline);
            await _store.PutAsync(key, value, timeout.Token).ConfigureAwait(false);
            var read = await _store.GetAsync(key, options: null, timeout.Token).ConfigureAwait(false);
            if (read is null || !read.AsSpan().SequenceEqual(value))
            {
                throw new InvalidOperationException($"shard {shard.Id}: the probe key read back {(read is null ? "nothing" : "a different value")} after a put");
            }
        }

        var balanceStart = Stopwatch.GetTimestamp();
        while (!LeadersOnPreferredStores(status) && Stopwatch.GetElapsedTime(balanceStart) < balanceWait)
        {
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            try
            {
                status = await _admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Status is advisory here; the next poll (or the measured runs) will tell.
            }
        }
        log.WriteLine($"[nokv] serving after {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s; {DescribeLeaders(status)}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        finally
        {
            _host.Dispose();
        }
    }

    /// <summary>Empty when every shard has exactly one replica that reports itself leader; else what is missing.</summary>
    private static string DescribeMissingLeaders(ClusterStatus status)
    {
        var missing = new StringBuilder();
        foreach (var shard in status.Map.Shards)
        {
            if (LeaderOf(status, shard.Id) is null)
            {
                missing.Append(missing.Length == 0 ? "no leader for shard " : ", ").Append(shard.Id);
            }
        }
        return missing.ToString();
    }

    private static StoreId? LeaderOf(ClusterStatus status, ShardId shard)
    {
        foreach (var report in status.Replicas)
        {
            if (report.Replica.Shard == shard && report.Status is { Role: ReplicaRole.Leader })
            {
                return report.Replica.Store;
            }
        }
        return null;
    }

    private static bool LeadersOnPreferredStores(ClusterStatus status)
    {
        foreach (var shard in status.Map.Shards)
        {
            if (LeaderOf(status, shard.Id) != shard.Replicas[0])
            {
                return false;
            }
        }
        return true;
    }

    private static string DescribeLeaders(ClusterStatus status)
    {
        var text = new StringBuilder();
        if (status.Map.Shards.Length > 64)
        {
            // A thousand shards would print a thousand ranges: leaders per store say what matters here.
            var perStore = new SortedDictionary<string, int>(StringComparer.Ordinal);
            foreach (var shard in status.Map.Shards)
            {
                var key = LeaderOf(status, shard.Id) is { } store ? $"store {store}" : "no leader";
                perStore[key] = perStore.GetValueOrDefault(key) + 1;
            }

            return "leaders: " + string.Join(", ", perStore.Select(p => $"{p.Value} on {p.Key}"));
        }

        foreach (var shard in status.Map.Shards)
        {
            var leader = LeaderOf(status, shard.Id);
            text.Append(text.Length == 0 ? "leaders: " : ", ")
                .Append("shard ").Append(shard.Id).Append(' ').Append(shard.Range)
                .Append(" on store ").Append(leader is { } l ? l.ToString() : "?");
        }
        return text.ToString();
    }
}
