using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoKv.Client;
using NoKv.Client.Admin;
using NoKv.IntegrationTests.Infrastructure;
using Orleans.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Membership;

/// <summary>
/// Three real silo processes started from a deploy/ config example (<c>--config deploy/appsettings.X.json</c>, with only
/// the per-VM values overridden: store id, ports, data directory, advertised address, connection string), finding each
/// other through an external membership service, with a client that finds the gateways through the same service:
/// writes and reads, `nokv cluster status`/`watch` in JSON, kill -9 and restart of store 1 (a new incarnation joins and
/// the old one is voted out through the table), then a clean stop and offline forensics of every store
/// (`nokv store verify` clean, `nokv store inspect` showing every shard with every key), plus the refusal to inspect a
/// running store.
/// </summary>
internal sealed class ExternalMembershipScenario(ITestOutputHelper output, string configExample, string connectionString, Action<IClientBuilder> clientClustering, bool killAndRestart) : IDisposable
{
    private const int KeysPerRound = 16;

    private readonly string _clusterId = "m" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "nokv-membership-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SiloProcess?[] _silos = new SiloProcess?[3];
    private readonly int[] _siloPorts = [SiloProcess.FreePort(), SiloProcess.FreePort(), SiloProcess.FreePort()];
    private readonly int[] _gatewayPorts = [SiloProcess.FreePort(), SiloProcess.FreePort(), SiloProcess.FreePort()];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public async Task RunAsync()
    {
        string config = Path.Combine(CliProcess.RepositoryRoot(), "deploy", configExample);
        Assert.True(File.Exists(config), config);
        int shards = JsonDocument.Parse(File.ReadAllText(config)).RootElement.GetProperty("Layout").GetProperty("InitialShards").GetInt32();
        for (int store = 1; store <= 3; store++)
        {
            Start(store, config);
        }

        var client = await ProcessClusterClient.ConnectAsync(_clusterId, clientClustering, TimeSpan.FromSeconds(40));
        Log("client connected through the membership service's gateway list");
        try
        {
            var kv = client.Services.GetRequiredService<IKvStore>();
            await WriteRoundAsync(kv, "before");
            Log("three silos joined through the membership service; first round written");

            // Every shard has a leader and three answering replicas (waited for in-process), and the CLI reports it so.
            var admin = client.Services.GetRequiredService<INoKvAdmin>();
            await Eventually.WaitAsync(
                async () => ClusterStatusJson.Write(await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(3))),
                json => AllShardsLed(json, shards),
                TimeSpan.FromSeconds(60),
                "every shard to be led with three replicas answering");
            var status = await CliAsync("cluster", "status", "--output", "json");
            Assert.True(status.ExitCode == 0 && AllShardsLed(status.Output, shards), status.ToString());
            Assert.Equal(3, JsonDocument.Parse(status.Output).RootElement.GetProperty("stores").EnumerateArray().Count(s => s.GetProperty("state").GetString() == "up"));
            Log("nokv cluster status: every shard led, three replicas each");
            if (!killAndRestart)
            {
                var watch = await CliAsync("watch", "--count", "2", "--interval", "0.2", "--output", "json");
                Assert.True(watch.ExitCode == 0, watch.ToString());
                var frames = watch.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(2, frames.Length);
                Assert.All(frames, f => Assert.Equal(shards, JsonDocument.Parse(f).RootElement.GetProperty("shards").GetArrayLength()));
                Log("nokv watch: two frames");
            }

            // Offline forensics refuse a store whose silo runs (the engine's lock is held by another process).
            var refused = await CliProcess.RunAsync("store", "inspect", StoreDirectory(2), "--output", "json");
            Assert.True(refused.ExitCode == 2, refused.ToString());
            Assert.Equal("store_in_use", JsonDocument.Parse(refused.Output).RootElement.GetProperty("error").GetProperty("code").GetString());
            if (killAndRestart)
            {
                await _silos[0]!.KillAsync();
                await WriteRoundAsync(kv, "during");
                Log("store 1 killed; second round written by stores 2 and 3");
                Start(1, config);
                await Eventually.WaitAsync(
                    async () => ClusterStatusJson.Write(await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(3))),
                    json => AllShardsLed(json, shards) && AllCaughtUp(json),
                    TimeSpan.FromSeconds(90),
                    "store 1 to rejoin and every replica to catch up");
                Log("store 1 rejoined as a new incarnation and caught up");
                await ReadRoundAsync(kv, "during");
            }
            else
            {
                // A clean stop needs every replica caught up for the offline count below to hold on every store.
                await Eventually.WaitAsync(
                    async () => ClusterStatusJson.Write(await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(3))),
                    AllCaughtUp,
                    TimeSpan.FromSeconds(30),
                    "every replica to catch up");
            }

            await ReadRoundAsync(kv, "before");
        }
        finally
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await client.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
            }

            client.Dispose();
        }

        await StopAllAndVerifyAsync(shards, killAndRestart ? 2 : 1);
    }

    private async Task StopAllAndVerifyAsync(int shards, int rounds)
    {
        for (int store = 1; store <= 3; store++)
        {
            int code = await _silos[store - 1]!.TerminateAsync(TimeSpan.FromSeconds(60));
            Assert.True(code == 0, $"store {store} exited with {code} on SIGTERM: {_silos[store - 1]!.RecentLog()}");
        }

        Log("all silos stopped with SIGTERM");
        for (int store = 1; store <= 3; store++)
        {
            var verify = await CliProcess.RunAsync("store", "verify", StoreDirectory(store), "--output", "json");
            Assert.True(verify.ExitCode == 0, verify.ToString());
            Assert.True(JsonDocument.Parse(verify.Output).RootElement.GetProperty("clean").GetBoolean(), verify.Output);

            var inspect = await CliProcess.RunAsync("store", "inspect", StoreDirectory(store), "--output", "json");
            Assert.True(inspect.ExitCode == 0, inspect.ToString());
            var root = JsonDocument.Parse(inspect.Output).RootElement;
            Assert.Equal(store, root.GetProperty("store_id").GetInt32());
            var shardRows = root.GetProperty("shards").EnumerateArray().ToList();
            // Every data shard, plus the system groups (the controller is shard 0) when the store hosts them.
            Assert.Equal(shards, shardRows.Count(s => s.GetProperty("id").GetInt64() != 0));
            Assert.All(shardRows, s => Assert.True(s.GetProperty("applied").GetUInt64() >= 1 && s.GetProperty("term").GetUInt64() >= 1, s.ToString()));
            // At least one data row per key written (exactly one while rows are plain key/value, more with versions).
            Assert.True(shardRows.Sum(s => s.GetProperty("data_rows").GetInt64()) >= rounds * KeysPerRound, inspect.Output);
        }

        Log("every store verifies clean and holds every key");
    }

    public void Dispose()
    {
        foreach (var silo in _silos)
        {
            silo?.Dispose();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string StoreDirectory(int store) => Path.Combine(_root, $"store-{store}");

    private void Start(int store, string config)
    {
        _silos[store - 1]?.Dispose();
        _silos[store - 1] = SiloProcess.Start(store,
        [
            "--config", config,
            "--store-id", store.ToString(), "--data-dir", StoreDirectory(store),
            "--silo-port", _siloPorts[store - 1].ToString(), "--gateway-port", _gatewayPorts[store - 1].ToString(),
            "--resp-port", SiloProcess.FreePort().ToString(),
            "--advertised-address", "127.0.0.1", "--connection-string", connectionString,
            "--cluster-id", _clusterId, "--service-id", _clusterId, "--Replicas:TickInterval", "00:00:00.050",
        ], output);
    }

    private Task<CliProcess.Result> CliAsync(params string[] args) =>
        CliProcess.RunAsync([.. args, "--cluster-id", _clusterId, "--timeout", "5", "--gateway", .. _gatewayPorts.Select(p => $"127.0.0.1:{p}")]);

    private static bool AllShardsLed(string json, int shards)
    {
        var list = JsonDocument.Parse(json).RootElement.GetProperty("shards").EnumerateArray().ToList();
        return list.Count == shards && list.All(s => s.GetProperty("leader").ValueKind == JsonValueKind.Number
            && s.GetProperty("replicas").EnumerateArray().Count(r => r.GetProperty("error").ValueKind == JsonValueKind.Null) == 3);
    }

    private static bool AllCaughtUp(string json) =>
        JsonDocument.Parse(json).RootElement.GetProperty("shards").EnumerateArray().All(s =>
        {
            var replicas = s.GetProperty("replicas").EnumerateArray().ToList();
            long commit = replicas.Max(r => r.GetProperty("commit").ValueKind == JsonValueKind.Number ? r.GetProperty("commit").GetInt64() : 0);
            return replicas.All(r => r.GetProperty("applied").ValueKind == JsonValueKind.Number && r.GetProperty("applied").GetInt64() >= commit);
        });

    private static byte[] Key(string round, int i) => [(byte)(i * 16 + 1), .. Encoding.UTF8.GetBytes($"{round}-{i}")];

    private static byte[] Value(string round, int i) => Encoding.UTF8.GetBytes($"{round}-value-{i}");

    private static async Task WriteRoundAsync(IKvStore kv, string round)
    {
        for (int i = 0; i < KeysPerRound; i++)
        {
            await kv.PutAsync(Key(round, i), Value(round, i));
        }
    }

    private static async Task ReadRoundAsync(IKvStore kv, string round)
    {
        for (int i = 0; i < KeysPerRound; i++)
        {
            Assert.Equal(Value(round, i), await kv.GetAsync(Key(round, i)));
        }
    }

    private void Log(string message)
    {
        try
        {
            output.WriteLine($"{_clock.Elapsed.TotalSeconds:F1}s: {message}");
        }
        catch (InvalidOperationException)
        {
        }
    }
}
