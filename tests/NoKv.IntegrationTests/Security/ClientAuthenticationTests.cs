using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Routing;
using NoKv.Abstractions.Security;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.Client.Admin;
using NoKv.Client.Hosting;
using NoKv.Client.Timestamps;
using NoKv.IntegrationTests.Infrastructure;
using Orleans.Hosting;
using Orleans.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Security;

/// <summary>
/// Two real silo processes with authentication on (as the VM examples run them): a client with the cluster's key works,
/// including Raft replication between the silos and the RESP gateway's in-silo client; a client without a key, with the
/// wrong secret or with an unknown key id is refused with <see cref="UnauthenticatedException"/> on every entry point it
/// can reach (the SDK, the shard map, the timestamp oracle, replica grains and the store service called directly), and
/// what it tried to write is not there.
/// </summary>
public sealed class ClientAuthenticationTests(ITestOutputHelper output) : IDisposable
{
    private const string ClusterId = "auth-test";
    private const string Secret = "auth-test-secret-0123456789abcdefghij";
    private const string WrongSecret = "auth-test-WRONG-0123456789abcdefghijk";
    private const string RespPassword = "resp-password-0123";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "nokv-auth-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<SiloProcess> _silos = new();
    private readonly List<IHost> _clients = new();

    [Fact]
    public async Task OnlyClientsHoldingTheClusterKeyAreServed()
    {
        Directory.CreateDirectory(_root);
        string keyFile = SecretFile("auth.keys", $"# test keys\nk1:{Secret}\n");
        string passwordFile = SecretFile("resp.password", RespPassword + "\n");
        int[] gateways = [SiloProcess.FreePort(), SiloProcess.FreePort()];
        int resp = SiloProcess.FreePort();
        for (int store = 1; store <= 2; store++)
        {
            _silos.Add(SiloProcess.Start(store,
            [
                "--store-id", store.ToString(), "--data-dir", Path.Combine(_root, $"store-{store}"),
                "--silo-port", SiloProcess.FreePort().ToString(), "--gateway-port", gateways[store - 1].ToString(),
                "--cluster-id", ClusterId, "--service-id", ClusterId, "--clustering", "File", "--membership-dir", Path.Combine(_root, "membership"),
                "--Layout:Stores:0", "1", "--Layout:Stores:1", "2", "--Layout:ReplicationFactor", "2", "--Layout:InitialShards", "2",
                "--Replicas:TickInterval", "00:00:00.050",
                "--auth", "true", "--auth-key-file", keyFile,
                .. store == 1 ? ["--resp-port", resp.ToString(), "--resp-password-file", passwordFile] : new[] { "--Resp:Enabled", "false" },
            ], output));
        }

        var good = await ConnectAsync(gateways, NoKvKeyRing.Parse($"k1:{Secret}", "test"));
        var goodKv = good.Services.GetRequiredService<IKvStore>();
        await goodKv.PutAsync("auth/k", "v1");
        Assert.Equal("v1", await goodKv.GetStringAsync("auth/k"));
        Assert.True(await good.Services.GetRequiredService<ITimestampSource>().GetTimestampAsync() > 0);
        var status = await good.Services.GetRequiredService<INoKvAdmin>().GetClusterStatusAsync(TimeSpan.FromSeconds(5));
        Assert.All(status.Replicas, r => Assert.Null(r.Error));

        // No key at all: the SDK's operations and every NoKV interface reached directly.
        var anonymous = await ConnectAsync(gateways, keys: null);
        var anonKv = anonymous.Services.GetRequiredService<IKvStore>();
        var refused = await Assert.ThrowsAsync<UnauthenticatedException>(() => anonKv.PutAsync("auth/k", "anonymous"));
        Assert.Equal(NoKvErrorCode.Unauthenticated, refused.Code);
        Assert.Contains("no credential", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<UnauthenticatedException>(() => anonKv.GetStringAsync("auth/k"));
        await Assert.ThrowsAsync<UnauthenticatedException>(() => anonymous.Services.GetRequiredService<ITimestampSource>().GetTimestampAsync().AsTask());
        await Assert.ThrowsAsync<UnauthenticatedException>(() => anonymous.Services.GetRequiredService<INoKvAdmin>().GetClusterStatusAsync(TimeSpan.FromSeconds(5)));
        var grains = anonymous.Services.GetRequiredService<IGrainFactory>();
        await Assert.ThrowsAsync<UnauthenticatedException>(() => grains.GetGrain<IShardMapGrain>(ShardMapGrainKeys.Cluster).GetShardMapAsync());
        await Assert.ThrowsAsync<UnauthenticatedException>(() => grains.GetGrain<ITimestampOracleGrain>(ShardMapGrainKeys.Cluster).GetTimestampsAsync(1));
        foreach (var shard in status.Map.Shards)
        {
            foreach (var replica in shard.Replicas)
            {
                var grain = grains.GetGrain<IShardReplicaGrain>(new ReplicaId(shard.Id, replica).ToGrainKey());
                await Assert.ThrowsAsync<UnauthenticatedException>(() => grain.GetStatusAsync());
                await Assert.ThrowsAsync<UnauthenticatedException>(() => grain.WriteAsync(Put(shard, "auth/k", "direct")));
            }
        }

        for (int store = 1; store <= 2; store++)
        {
            var service = grains.GetGrain<IStoreService>(StoreServiceIds.At(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, gateways[store - 1]), 0)));
            await Assert.ThrowsAsync<UnauthenticatedException>(() => service.DescribeAsync());
            foreach (var shard in status.Map.Shards)
            {
                await Assert.ThrowsAsync<UnauthenticatedException>(() => service.WriteAsync(new StoreId(store), Put(shard, "auth/k", "via-service")));
            }
        }

        // The right key id with another secret, and a key id the cluster does not hold.
        var wrong = await ConnectAsync(gateways, NoKvKeyRing.Parse($"k1:{WrongSecret}", "test"));
        var badSignature = await Assert.ThrowsAsync<UnauthenticatedException>(() => wrong.Services.GetRequiredService<IKvStore>().PutAsync("auth/k", "wrong-secret"));
        Assert.Contains("bad signature", badSignature.Message, StringComparison.Ordinal);
        var unknown = await ConnectAsync(gateways, NoKvKeyRing.Parse($"k2:{Secret}", "test"));
        var unknownKey = await Assert.ThrowsAsync<UnauthenticatedException>(() => unknown.Services.GetRequiredService<IKvStore>().DeleteAsync("auth/k"));
        Assert.Contains("'k2'", unknownKey.Message, StringComparison.Ordinal);

        // Nothing any refused call tried to do happened.
        Assert.Equal("v1", await goodKv.GetStringAsync("auth/k"));

        // The RESP gateway checks its own password, and its in-silo client signs with the silo's key.
        using (var redis = new TcpClient())
        {
            await redis.ConnectAsync(IPAddress.Loopback, resp);
            var stream = redis.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            Assert.StartsWith("-NOAUTH", await CommandAsync(stream, reader, "GET", "auth/k"), StringComparison.Ordinal);
            Assert.StartsWith("-WRONGPASS", await CommandAsync(stream, reader, "AUTH", "not-the-password"), StringComparison.Ordinal);
            Assert.Equal("+OK", await CommandAsync(stream, reader, "AUTH", RespPassword));
            Assert.Equal("+OK", await CommandAsync(stream, reader, "SET", "auth/resp", "from-redis"));
            Assert.Equal("$2", await CommandAsync(stream, reader, "GET", "auth/k"));
            Assert.Equal("v1", await reader.ReadLineAsync());
        }

        Assert.Equal("from-redis", await goodKv.GetStringAsync("auth/resp"));

        string logs = string.Join('\n', _silos.Select(s => s.RecentLog()));
        Assert.Contains("Refused a call to", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongSecret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(RespPassword, logs, StringComparison.Ordinal);
    }

    private static WriteRequest Put(ShardDescriptor shard, string key, string value) => new()
    {
        Shard = shard.Id,
        Epoch = shard.Epoch,
        Kind = WriteKind.Put,
        Key = Encoding.UTF8.GetBytes(key),
        Value = Encoding.UTF8.GetBytes(value),
        Session = new ClientSession(Guid.NewGuid(), 1),
    };

    private static async Task<string?> CommandAsync(NetworkStream stream, StreamReader reader, params string[] args)
    {
        var request = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (string arg in args)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        return await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task<IHost> ConnectAsync(int[] gateways, NoKvKeyRing? keys)
    {
        var host = await ProcessClusterClient.ConnectAsync(
            ClusterId,
            client => client.UseStaticClustering(gateways.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToArray()),
            TimeSpan.FromSeconds(30),
            services =>
            {
                if (keys is not null)
                {
                    services.AddNoKvClientAuthentication(keys, "client:auth-test");
                }
            });
        _clients.Add(host);
        return host;
    }

    private string SecretFile(string name, string content)
    {
        string path = Path.Combine(_root, name);
        File.WriteAllText(path, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var silo in _silos)
        {
            silo.Dispose();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
