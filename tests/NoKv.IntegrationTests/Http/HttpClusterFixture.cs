using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Orleans.Hosting;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace NoKv.IntegrationTests.Http;

/// <summary>
/// Three real silo processes with their HTTP ports on (as deploy/local-cluster.sh runs them, on free ports), and an SDK
/// client, shared by the HTTP API, Prometheus and browser tests of <see cref="HttpClusterCollection"/>. Ready once every
/// store reports through store 1's API and every shard has a leader.
/// </summary>
public sealed class HttpClusterFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "nokv-http-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<SiloProcess> _silos = new();
    private readonly ITestOutputHelper _log;
    private IHost? _client;

    public HttpClusterFixture(IMessageSink sink) => _log = new SinkOutput(sink);

    public int[] HttpPorts { get; } = [SiloProcess.FreePort(), SiloProcess.FreePort(), SiloProcess.FreePort()];

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    public IKvStore Kv => _client!.Services.GetRequiredService<IKvStore>();

    public IReadOnlyList<SiloProcess> Silos => _silos;

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>The HTTP base address of store <paramref name="store"/> (1-3).</summary>
    public Uri Base(int store) => new($"http://127.0.0.1:{HttpPorts[store - 1]}/");

    public async Task<JsonElement> GetJsonAsync(int store, string path) =>
        await Http.GetFromJsonAsync<JsonElement>(new Uri(Base(store), path), Json);

    public async Task InitializeAsync()
    {
        int[] siloPorts = [SiloProcess.FreePort(), SiloProcess.FreePort(), SiloProcess.FreePort()];
        int[] gatewayPorts = [SiloProcess.FreePort(), SiloProcess.FreePort(), SiloProcess.FreePort()];
        string membership = Path.Combine(_root, "membership");
        for (int store = 1; store <= 3; store++)
        {
            _silos.Add(SiloProcess.Start(store,
            [
                "--store-id", store.ToString(), "--data-dir", Path.Combine(_root, $"store-{store}"),
                "--silo-port", siloPorts[store - 1].ToString(), "--gateway-port", gatewayPorts[store - 1].ToString(),
                "--http-port", HttpPorts[store - 1].ToString(), "--resp-port", SiloProcess.FreePort().ToString(),
                "--cluster-id", "http-test", "--service-id", "http-test",
                "--clustering", "File", "--membership-dir", membership,
            ], _log));
        }

        _client = await ProcessClusterClient.ConnectAsync(
            "http-test",
            c => c.UseStaticClustering(gatewayPorts.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToArray()),
            TimeSpan.FromSeconds(30));
        await Eventually.WaitAsync(
            () => GetJsonAsync(1, "api/cluster"),
            c => c.GetProperty("totals") is var t && t.GetProperty("storesUp").GetInt32() == 3
                && t.GetProperty("shards").GetInt32() > 0 && t.GetProperty("shardsWithLeader").GetInt32() == t.GetProperty("shards").GetInt32(),
            TimeSpan.FromSeconds(90),
            "every store up and every shard led, as store 1's API reports");
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _client.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // The silos may already be gone.
            }

            _client.Dispose();
        }

        foreach (var silo in _silos)
        {
            silo.Dispose();
        }

        Http.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory.
        }
    }

    /// <summary>
    /// Writes <paramref name="count"/> keys with 8 concurrent writers, then reads each back once (8 at a time). Key i
    /// starts with byte i * 97 mod 256, so the keys spread over every shard of the default layout (and every leader).
    /// </summary>
    public async Task WriteAndReadAsync(string prefix, int count)
    {
        var kv = Kv;
        static byte[] Key(string prefix, int i) => [(byte)(i * 97 % 256), .. System.Text.Encoding.ASCII.GetBytes($"{prefix}-{i:D5}")];
        static byte[] Value(int i) => System.Text.Encoding.ASCII.GetBytes($"value-{i}");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async w =>
        {
            for (int i = w; i < count; i += 8)
            {
                await kv.PutAsync(Key(prefix, i), Value(i));
            }
        }));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async w =>
        {
            for (int i = w; i < count; i += 8)
            {
                Assert.Equal(Value(i), await kv.GetAsync(Key(prefix, i)));
            }
        }));
    }

    /// <summary>Writes and reads one key over and over from four concurrent callers, <paramref name="count"/> requests in all: a hot key.</summary>
    public async Task HammerAsync(string key, int count)
    {
        var kv = Kv;
        var bytes = System.Text.Encoding.ASCII.GetBytes(key);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async w =>
        {
            for (int i = w; i < count; i += 4)
            {
                if (i % 2 == 0)
                {
                    await kv.PutAsync(bytes, System.Text.Encoding.ASCII.GetBytes($"v{i}"));
                }
                else
                {
                    await kv.GetAsync(bytes);
                }
            }
        }));
    }

    /// <summary>Fixture output goes to the runner's diagnostic messages (a fixture has no test output of its own).</summary>
    private sealed class SinkOutput(IMessageSink sink) : ITestOutputHelper
    {
        public void WriteLine(string message) => sink.OnMessage(new DiagnosticMessage(message));

        public void WriteLine(string format, params object[] args) => sink.OnMessage(new DiagnosticMessage(format, args));
    }
}
