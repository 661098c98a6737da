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
        int[] gatewayPorts = [SiloProcess.FreePort(), SiloProcess.FreePort(), SiloProcess.FreePort()];
        for (int store = 1; store <= 3; store++)
        {
            _silos.Add(StartStore(store, gatewayPorts[store - 1]));
        }

        await RestartStoresThatExitAtStartAsync(gatewayPorts);
        _client = await ProcessClusterClient.ConnectAsync(
            "http-test",
            c => c.UseStaticClustering(gatewayPorts.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToArray()),
            TimeSpan.FromSeconds(30));
        try
        {
            await Eventually.WaitAsync(
                () => GetJsonAsync(1, "api/cluster"),
                c => c.GetProperty("totals") is var t && t.GetProperty("storesUp").GetInt32() == 3
                    && t.GetProperty("shards").GetInt32() > 0 && t.GetProperty("shardsWithLeader").GetInt32() == t.GetProperty("shards").GetInt32(),
                TimeSpan.FromSeconds(90),
                "every store up and every shard led, as store 1's API reports");
        }
        catch (TimeoutException e)
        {
            // The silos' own output is what tells why one never came up (it goes to the diagnostic sink otherwise).
            var silos = _silos.Select(s => $"store {s.Store}: {(s.HasExited ? $"exited with {s.ExitCode}" : "running")}, last lines:\n{s.RecentLog()}");
            throw new TimeoutException(e.Message + "\n" + string.Join("\n", silos), e);
        }
    }

    private SiloProcess StartStore(int store, int gatewayPort) => SiloProcess.Start(store,
    [
        "--store-id", store.ToString(), "--data-dir", Path.Combine(_root, $"store-{store}"),
        "--silo-port", SiloProcess.FreePort().ToString(), "--gateway-port", gatewayPort.ToString(),
        "--http-port", HttpPorts[store - 1].ToString(), "--resp-port", SiloProcess.FreePort().ToString(),
        "--cluster-id", "http-test", "--service-id", "http-test",
        "--clustering", "File", "--membership-dir", Path.Combine(_root, "membership"),
    ], _log);

    /// <summary>
    /// Until every store's HTTP port answers: a store whose process exits on the way is started again on fresh ports.
    /// The ports come from <see cref="SiloProcess.FreePort"/> (bind to 0, release), so another test starting silos or
    /// connections at the same moment can take one before the silo binds it; the silo then exits at start-up, and every
    /// test of the collection used to fail on one unlucky port (seen once in a full integration run).
    /// </summary>
    private async Task RestartStoresThatExitAtStartAsync(int[] gatewayPorts)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        int restarts = 0;
        while (true)
        {
            for (int i = 0; i < _silos.Count; i++)
            {
                if (!_silos[i].HasExited)
                {
                    continue;
                }

                var dead = _silos[i];
                _log.WriteLine($"store {dead.Store} exited at start-up with {dead.ExitCode}; starting it again on new ports. Last lines:\n{dead.RecentLog()}");
                Assert.True(++restarts <= 3, $"store {dead.Store} exited at start-up with {dead.ExitCode} after {restarts - 1} restarts:\n{dead.RecentLog()}");
                dead.Dispose();
                HttpPorts[dead.Store - 1] = SiloProcess.FreePort();
                gatewayPorts[dead.Store - 1] = SiloProcess.FreePort();
                _silos[i] = StartStore(dead.Store, gatewayPorts[dead.Store - 1]);
            }

            bool allAnswer = true;
            for (int store = 1; store <= 3 && allAnswer; store++)
            {
                try
                {
                    using var response = await Http.GetAsync(new Uri(Base(store), "api/cluster"));
                    allAnswer = response.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    allAnswer = false;
                }
                catch (TaskCanceledException)
                {
                    allAnswer = false;
                }
            }

            if (allAnswer)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "the stores' HTTP ports did not all answer within 90 s:\n"
                + string.Join("\n", _silos.Select(s => $"store {s.Store}: {(s.HasExited ? $"exited with {s.ExitCode}" : "running")}\n{s.RecentLog()}")));
            await Task.Delay(200);
        }
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
