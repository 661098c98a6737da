using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// NoKV silo processes on localhost for the cluster benchmark: stores 1-3 (more on request: the layout still places
/// the bootstrap shards on 1-3, so stores 4+ start empty, as stores added later), each with its own data
/// directory under a fresh temporary folder, kernel-chosen free silo and gateway ports, Orleans localhost
/// clustering with store 1 as the primary, and a cluster id unique to this run (so the client can never
/// reach another cluster). The silo is the Release NoKv.Silo built next to this benchmark (the project
/// references it, so `dotnet run` builds both); if it is missing it is built once.
/// Disposal stops the silos (SIGTERM, then SIGKILL after a grace period), secondaries before the primary,
/// and deletes the folder unless <see cref="KeepData"/> is set (it is set when start-up fails, so the logs
/// survive for a post-mortem).
/// </summary>
public sealed class NoKvLocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(40);

    private readonly List<SiloProcess> _silos;
    private readonly List<int> _httpPorts = new();

    private NoKvLocalCluster(string clusterId, string directory, List<SiloProcess> silos)
    {
        ClusterId = clusterId;
        Directory = directory;
        _silos = silos;
    }

    public string ClusterId { get; }

    /// <summary>Holds store-N/ (data) and store-N.log per silo.</summary>
    public string Directory { get; }

    public IReadOnlyList<SiloProcess> Silos => _silos;

    public IPEndPoint[] Gateways => _silos.Select(s => new IPEndPoint(IPAddress.Loopback, s.GatewayPort)).ToArray();

    /// <summary>Each silo's HTTP port (/metrics, API, dashboard), in store order.</summary>
    public IReadOnlyList<int> HttpPorts => _httpPorts;

    public bool KeepData { get; set; }

    /// <summary>
    /// Starts the silos and returns once every gateway accepts connections. Readiness to serve (elected
    /// leaders) is the client's to check, see <see cref="NoKvClusterTarget.WaitUntilServingAsync"/>.
    /// <paramref name="splitKeys"/> are the bootstrap layout's split points (shard count = splits + 1).
    /// </summary>
    /// <param name="extraArguments">Added to every silo's command line (e.g. controller settings).</param>
    /// <param name="stores">How many silos (at least 3).</param>
    public static async Task<NoKvLocalCluster> StartAsync(IReadOnlyList<string> splitKeys, TimeSpan deadline, TextWriter log, CancellationToken cancellationToken, IReadOnlyList<string>? extraArguments = null, int stores = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stores, 3);
        var siloDll = await LocateSiloAsync(log, cancellationToken).ConfigureAwait(false);
        var clusterId = $"nokv-bench-{Environment.ProcessId}";
        var directory = System.IO.Directory.CreateTempSubdirectory("nokv-bench-cluster-").FullName;
        // Silo and gateway ports, then each silo's HTTP port: the silos run as deployed, with /metrics (the
        // Prometheus exporter subscribed to every meter) and the dashboard's per-second sampler on.
        var ports = FreePorts.Take(3 * stores);
        var cluster = new NoKvLocalCluster(clusterId, directory, new List<SiloProcess>(stores));
        try
        {
            var until = Stopwatch.GetTimestamp() + (long)(deadline.TotalSeconds * Stopwatch.Frequency);
            for (var store = 1; store <= stores; store++)
            {
                int siloPort = ports[2 * (store - 1)], gatewayPort = ports[(2 * (store - 1)) + 1];
                var arguments = SiloArguments(clusterId, store, Path.Combine(directory, $"store-{store}"), siloPort, gatewayPort,
                    store == 1 ? null : $"127.0.0.1:{ports[0]}", splitKeys);
                arguments.Add("--http-port");
                arguments.Add(ports[(2 * stores) + store - 1].ToString(CultureInfo.InvariantCulture));
                arguments.AddRange(extraArguments ?? []);
                var silo = SiloProcess.Start(siloDll, store, siloPort, gatewayPort, arguments, Path.Combine(directory, $"store-{store}.log"));
                cluster._silos.Add(silo);
                cluster._httpPorts.Add(ports[(2 * stores) + store - 1]);
                log.WriteLine($"[nokv] store {store}: pid {silo.ProcessId}, silo port {siloPort}, gateway port {gatewayPort}, http port {ports[(2 * stores) + store - 1]}");
                if (store == 1)
                {
                    // The others join through the primary's membership; it must listen first.
                    await WaitForGatewayAsync(silo, until, cancellationToken).ConfigureAwait(false);
                }
            }
            foreach (var silo in cluster._silos)
            {
                await WaitForGatewayAsync(silo, until, cancellationToken).ConfigureAwait(false);
            }
            return cluster;
        }
        catch (Exception exception)
        {
            // Keep the logs of a failed start; a cancelled one (Ctrl-C) leaves nothing behind.
            cluster.KeepData = exception is not OperationCanceledException;
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Secondaries first, in parallel; the primary (which holds localhost membership) last.
        var secondaries = _silos.Where(s => s.StoreId != 1).ToList();
        await StopAsync(secondaries).ConfigureAwait(false);
        await StopAsync(_silos.Where(s => s.StoreId == 1).ToList()).ConfigureAwait(false);
        foreach (var silo in _silos)
        {
            silo.Dispose();
        }
        _silos.Clear();
        if (KeepData)
        {
            Console.Error.WriteLine($"[nokv] data and silo logs kept in {Directory}");
            return;
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException exception)
        {
            Console.Error.WriteLine($"[nokv] could not delete {Directory}: {exception.Message}");
        }
    }

    private static async Task StopAsync(List<SiloProcess> silos)
    {
        foreach (var silo in silos)
        {
            silo.RequestStop();
        }
        var exits = silos.Select(s => s.WaitForExitAsync(StopGrace)).ToArray();
        var clean = await Task.WhenAll(exits).ConfigureAwait(false);
        for (var i = 0; i < silos.Count; i++)
        {
            if (!clean[i])
            {
                Console.Error.WriteLine($"[nokv] store {silos[i].StoreId} did not stop within {StopGrace.TotalSeconds:F0} s after SIGTERM; killed");
            }
        }
    }

    private static List<string> SiloArguments(string clusterId, int store, string dataDirectory, int siloPort, int gatewayPort, string? primary, IReadOnlyList<string> splitKeys)
    {
        var inv = CultureInfo.InvariantCulture;
        var arguments = new List<string>
        {
            "--cluster-id", clusterId,
            "--service-id", clusterId,
            "--store-id", store.ToString(inv),
            "--silo-name", $"bench-store-{store}",
            "--data-dir", dataDirectory,
            "--silo-port", siloPort.ToString(inv),
            "--gateway-port", gatewayPort.ToString(inv),
            "--clustering", "Localhost",
            "--Resp:Enabled", "false",
            "--Layout:InitialShards", (splitKeys.Count + 1).ToString(inv),
        };
        if (primary is not null)
        {
            arguments.Add("--primary");
            arguments.Add(primary);
        }
        for (var i = 0; i < splitKeys.Count; i++)
        {
            arguments.Add($"--Layout:SplitKeys:{i.ToString(inv)}");
            arguments.Add(splitKeys[i]);
        }
        return arguments;
    }

    private static async Task WaitForGatewayAsync(SiloProcess silo, long until, CancellationToken cancellationToken)
    {
        while (!await silo.IsGatewayOpenAsync(cancellationToken).ConfigureAwait(false))
        {
            if (silo.HasExited)
            {
                throw new InvalidOperationException(
                    $"store {silo.StoreId} exited during start-up with code {silo.ExitCode}; last log lines:\n{silo.LogTail(20)}");
            }
            if (Stopwatch.GetTimestamp() > until)
            {
                throw new TimeoutException($"store {silo.StoreId} did not open gateway port {silo.GatewayPort} in time; last log lines:\n{silo.LogTail(20)}");
            }
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The silo built in the same configuration as this benchmark (bin/&lt;Configuration&gt;/net10.0 of
    /// silo/NoKv.Silo in the repository this binary was built from). Built with `dotnet build` if missing.
    /// </summary>
    private static async Task<string> LocateSiloAsync(TextWriter log, CancellationToken cancellationToken)
    {
        // NOKV_BENCH_SILO_DLL runs another build of the silo, e.g. one published ahead-of-time compiled
        // (`dotnet publish silo/NoKv.Silo -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o DIR`).
        if (Environment.GetEnvironmentVariable("NOKV_BENCH_SILO_DLL") is { Length: > 0 } chosen)
        {
            if (!File.Exists(chosen))
            {
                throw new FileNotFoundException($"NOKV_BENCH_SILO_DLL names no file: {chosen}", chosen);
            }

            log.WriteLine($"[nokv] silo from NOKV_BENCH_SILO_DLL: {chosen}");
            return chosen;
        }

        var baseDirectory = new DirectoryInfo(AppContext.BaseDirectory);
        var framework = baseDirectory.Name;
        var configuration = baseDirectory.Parent?.Name ?? "Release";
        var root = baseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "NoKv.sln")))
        {
            root = root.Parent;
        }
        if (root is null)
        {
            throw new InvalidOperationException($"cannot find the repository (NoKv.sln) above {AppContext.BaseDirectory}; the cluster benchmark runs from a source checkout");
        }
        var project = Path.Combine(root.FullName, "silo", "NoKv.Silo");
        var dll = Path.Combine(project, "bin", configuration, framework, "NoKv.Silo.dll");
        if (File.Exists(dll))
        {
            return dll;
        }
        log.WriteLine($"[nokv] {dll} not found: building the silo ({configuration})");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in new[] { "build", project, "-c", configuration, "-nologo", "-v", "quiet" })
        {
            info.ArgumentList.Add(argument);
        }
        using var build = Process.Start(info) ?? throw new InvalidOperationException("could not run dotnet build");
        var output = await build.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await build.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (build.ExitCode != 0 || !File.Exists(dll))
        {
            throw new InvalidOperationException($"building {project} failed (exit code {build.ExitCode}):\n{output}");
        }
        return dll;
    }
}
