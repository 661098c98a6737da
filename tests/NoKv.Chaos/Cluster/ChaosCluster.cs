using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Status;
using NoKv.Client.Admin;
using NoKv.Client.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;

namespace NoKv.Chaos.Cluster;

/// <summary>
/// 3 or 5 real silo processes sharing a File membership table under a fresh temporary folder, each in its own network
/// namespace when the machine allows (<see cref="NetworkLab"/>), one store's data on a small tmpfs for disk faults,
/// and a supervisor that restarts a silo that exits when the harness did not take it down (as deploy/local-cluster.sh
/// and systemd's Restart=on-failure do), recording each such exit. Every action on the nodes is serialized.
/// </summary>
public sealed class ChaosCluster : IAsyncDisposable
{
    private const int SiloPort = 11111;
    private const int GatewayPort = 30000;
    private const int EtcdPeerPort = 2380;
    private const int EtcdClientPort = 2379;

    /// <summary>The silo's exit code for a store whose disk is full or failing (StartupError.StorageFailed).</summary>
    private const int DiskFullExitCode = 6;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _unexpectedExits = new();
    private int _diskFullExits;
    private readonly TextWriter _log;
    private readonly bool _keep;
    private Task? _supervisor;

    private ChaosCluster(string root, string clusterId, NetworkLab? lab, TextWriter log, bool keep)
    {
        Root = root;
        ClusterId = clusterId;
        Lab = lab;
        _log = log;
        _keep = keep;
    }

    public string Root { get; }

    public string ClusterId { get; }

    public NetworkLab? Lab { get; }

    public List<SiloNode> Nodes { get; } = new();

    /// <summary>The store whose data directory is a tmpfs of <see cref="ChaosOptions.DiskMegabytes"/>, if any.</summary>
    public int? DiskStore { get; private set; }

    private string? DiskMount { get; set; }

    public bool KeepData { get; set; }

    /// <summary>The members are etcd's (the anchor), not NoKV silos.</summary>
    public bool IsEtcd { get; init; }

    /// <summary>The client URLs of the members (etcd).</summary>
    public string EtcdEndpoints => string.Join(",", Nodes.Select(n => $"http://{n.Gateway}"));

    /// <summary>The clients' attempt timeout, or null for the SDK's default.</summary>
    public TimeSpan? AttemptTimeout { get; init; }

    /// <summary>Exits of silos the harness did not cause, in order (each was restarted by the supervisor).</summary>
    public IReadOnlyList<string> UnexpectedExits
    {
        get
        {
            lock (_unexpectedExits)
            {
                return _unexpectedExits.ToList();
            }
        }
    }

    public static async Task<ChaosCluster> StartAsync(ChaosOptions options, bool useNetns, bool useTmpfs, int run, TextWriter log, bool etcd = false)
    {
        string? siloDll = etcd ? null : LocateSilo();
        string root = Directory.CreateTempSubdirectory($"nokv-chaos-{Environment.ProcessId}-{run}-").FullName;
        string clusterId = $"chaos-{Environment.ProcessId}-{run}";
        var lab = useNetns ? await NetworkLab.CreateAsync(options.Silos) : null;
        var cluster = new ChaosCluster(root, clusterId, lab, log, options.KeepData) { AttemptTimeout = options.AttemptTimeoutMs is int ms ? TimeSpan.FromMilliseconds(ms) : null, IsEtcd = etcd };
        try
        {
            if (useTmpfs)
            {
                cluster.DiskStore = options.Silos;
                cluster.DiskMount = Path.Combine(root, $"store-{options.Silos}-tmpfs");
                Directory.CreateDirectory(cluster.DiskMount);
                await Shell.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={options.DiskMegabytes}m", "tmpfs", cluster.DiskMount]);
            }

            var loopbackPorts = lab is null ? FreePorts(2 * options.Silos) : [];
            string membership = Path.Combine(root, "membership");
            var peerUrls = Enumerable.Range(1, options.Silos)
                .Select(store => $"m{store}=http://{lab?.Address(store) ?? "127.0.0.1"}:{(lab is null ? loopbackPorts[2 * (store - 1)] : EtcdPeerPort)}");
            string initialCluster = string.Join(",", peerUrls);
            for (int store = 1; store <= options.Silos; store++)
            {
                string address = lab?.Address(store) ?? "127.0.0.1";
                int siloPort = lab is null ? loopbackPorts[2 * (store - 1)] : etcd ? EtcdPeerPort : SiloPort;
                int gatewayPort = lab is null ? loopbackPorts[(2 * (store - 1)) + 1] : etcd ? EtcdClientPort : GatewayPort;
                string data = store == cluster.DiskStore ? Path.Combine(cluster.DiskMount!, "data") : Path.Combine(root, $"store-{store}");
                if (etcd)
                {
                    // etcd as the benchmark runs it (tests/NoKv.Benchmarks/etcd): defaults (100 ms heartbeat, 1 s election
                    // timeout, an fsync per commit); a restarted member finds its data directory and rejoins.
                    var member = new List<string>
                    {
                        "--name", $"m{store}", "--data-dir", data,
                        "--listen-client-urls", $"http://{address}:{Text(gatewayPort)}", "--advertise-client-urls", $"http://{address}:{Text(gatewayPort)}",
                        "--listen-peer-urls", $"http://{address}:{Text(siloPort)}", "--initial-advertise-peer-urls", $"http://{address}:{Text(siloPort)}",
                        "--initial-cluster", initialCluster, "--initial-cluster-token", clusterId, "--initial-cluster-state", "new",
                    };
                    cluster.Nodes.Add(new SiloNode(store, ["etcd"], member, lab?.Namespace(store),
                        new IPEndPoint(IPAddress.Parse(address), gatewayPort), Path.Combine(root, $"store-{store}.log"), data));
                    continue;
                }

                var arguments = new List<string>
                {
                    "--store-id", Text(store), "--data-dir", data,
                    "--silo-port", Text(siloPort), "--gateway-port", Text(gatewayPort), "--advertised-address", address,
                    "--cluster-id", clusterId, "--service-id", clusterId,
                    "--clustering", "File", "--membership-dir", membership,
                    "--Layout:InitialShards", Text(options.Silos == 3 ? 4 : 5),
                    "--Replicas:SnapshotEntries", Text(options.SnapshotEntries),
                    "--Resp:Enabled", "false",
                };
                if (options.Faults.Contains(Faults.FaultKind.SlowDisk))
                {
                    // The silo's debug switch (docs/chaos.md "Faults"): it polls this file for a sync delay; no file = normal.
                    arguments.AddRange(["--Debug:SlowDiskControlFile", cluster.SlowDiskFile(store)]);
                }

                if (options.TickMs is int tick)
                {
                    arguments.AddRange(["--Replicas:TickInterval", TimeSpan.FromMilliseconds(tick).ToString("c", CultureInfo.InvariantCulture)]);
                }

                if (options.ElectionTicks is int election)
                {
                    arguments.AddRange(["--Replicas:ElectionTicks", Text(election)]);
                }

                if (options.HeartbeatTicks is int heartbeat)
                {
                    arguments.AddRange(["--Replicas:HeartbeatTicks", Text(heartbeat)]);
                }
                for (int i = 0; i < options.Silos; i++)
                {
                    arguments.Add($"--Layout:Stores:{Text(i)}");
                    arguments.Add(Text(i + 1));
                }

                cluster.Nodes.Add(new SiloNode(store, ["dotnet", siloDll!], arguments, lab?.Namespace(store),
                    new IPEndPoint(IPAddress.Parse(address), gatewayPort), Path.Combine(root, $"store-{store}.log"), data));
            }

            foreach (var node in cluster.Nodes)
            {
                node.Start();
            }

            var deadline = Stopwatch.StartNew();
            foreach (var node in cluster.Nodes)
            {
                while (!await node.IsGatewayOpenAsync())
                {
                    if (node.ExitCode is int code)
                    {
                        throw new InvalidOperationException($"store {node.Store} exited during start-up with code {code}:\n{node.LogTail(20)}");
                    }

                    if (deadline.Elapsed > TimeSpan.FromSeconds(90))
                    {
                        throw new TimeoutException($"store {node.Store} did not open its gateway within 90 s:\n{node.LogTail(20)}");
                    }

                    await Task.Delay(200);
                }
            }

            cluster._supervisor = Task.Run(cluster.SuperviseAsync);
            return cluster;
        }
        catch
        {
            cluster.KeepData = true;
            await cluster.DisposeAsync();
            throw;
        }
    }

    public SiloNode Node(int store) => Nodes[store - 1];

    /// <summary>An SDK client of this cluster (static gateway list of every silo), connected within 60 s.</summary>
    public async Task<IHost> ConnectClientAsync(TimeSpan operationTimeout)
    {
        var gateways = Nodes.Select(n => n.Gateway).ToArray();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.UseOrleansClient(client =>
            {
                client.UseStaticClustering(gateways);
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = ClusterId;
                    o.ServiceId = ClusterId;
                });
            });
            builder.Services.AddNoKvClient(o =>
            {
                o.OperationTimeout = operationTimeout;
                o.AttemptTimeout = AttemptTimeout ?? o.AttemptTimeout;
            });
            var host = builder.Build();
            try
            {
                await host.StartAsync();
                return host;
            }
            catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                host.Dispose();
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Each shard's leader store as the replicas report it now (shards without an answering leader are absent).</summary>
    /// <remarks>Only the data shards of the map: system groups (the controller) are left out.</remarks>
    public static async Task<Dictionary<long, int>> LeadersAsync(INoKvAdmin admin) => LeadersOf(await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2)));

    /// <inheritdoc cref="LeadersAsync"/>
    public static Dictionary<long, int> LeadersOf(ClusterStatus status)
    {
        var dataShards = status.Map.Shards.Select(s => s.Id.Value).ToHashSet();
        var leaders = new Dictionary<long, int>();
        foreach (var report in status.Replicas)
        {
            if (report.Status is { Role: ReplicaRole.Leader } s && dataShards.Contains(report.Replica.Shard.Value))
            {
                // Two replicas may both claim leadership for a moment (an old leader not yet told); the higher term wins.
                if (!leaders.ContainsKey(report.Replica.Shard.Value) || status.Replicas.Any(r => r.Replica.Shard == report.Replica.Shard && r.Status is { Role: ReplicaRole.Leader } o && o.Term < s.Term))
                {
                    leaders[report.Replica.Shard.Value] = report.Replica.Store.Value;
                }
            }
        }

        return leaders;
    }

    /// <summary>Exits with code 6 (the store's disk was full: the silo leaves by design and its supervisor restarts it), not counted as unexpected.</summary>
    public int DiskFullExits => Volatile.Read(ref _diskFullExits);

    /// <summary>SIGKILL; the supervisor leaves the store down until <see cref="RestartAsync"/>.</summary>
    public Task KillAsync(int store) => UnderGateAsync(async () =>
    {
        Node(store).HeldDown = true;
        await Node(store).KillAsync();
    });

    public Task RestartAsync(int store) => UnderGateAsync(() =>
    {
        var node = Node(store);
        if (!node.IsRunning)
        {
            node.Start();
        }

        node.HeldDown = false;
        return Task.CompletedTask;
    });

    public Task FreezeAsync(int store) => UnderGateAsync(() =>
    {
        Node(store).HeldDown = true;
        Node(store).Freeze();
        return Task.CompletedTask;
    });

    public Task ThawAsync(int store) => UnderGateAsync(() =>
    {
        Node(store).Thaw();
        Node(store).HeldDown = false;
        return Task.CompletedTask;
    });

    /// <summary>The control file of a store's slow-disk switch (holds the delay per sync in milliseconds while slowed).</summary>
    public string SlowDiskFile(int store) => Path.Combine(Root, $"store-{Text(store)}.slow-disk");

    /// <summary>Every engine sync of <paramref name="store"/> delayed by <paramref name="milliseconds"/> (seen by the silo within 100 ms).</summary>
    public Task SlowDiskAsync(int store, int milliseconds) =>
        File.WriteAllTextAsync(SlowDiskFile(store), milliseconds.ToString(CultureInfo.InvariantCulture));

    /// <summary>Every store's disk back to normal.</summary>
    public Task NormalDisksAsync()
    {
        foreach (var node in Nodes)
        {
            File.Delete(SlowDiskFile(node.Store));
        }

        return Task.CompletedTask;
    }

    /// <summary>Fills the disk store's tmpfs to the last byte with a ballast file; returns the bytes written.</summary>
    public async Task<long> FillDiskAsync()
    {
        string ballast = Path.Combine(DiskMount ?? throw new InvalidOperationException("no tmpfs disk in this cluster"), "ballast");
        var chunk = new byte[1 << 20];
        long written = 0;
        await using var file = new FileStream(ballast, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
        try
        {
            while (true)
            {
                await file.WriteAsync(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            // ENOSPC: full. Fill the last partial megabyte too.
            for (int size = chunk.Length / 2; size >= 512; size /= 2)
            {
                try
                {
                    await file.WriteAsync(chunk.AsMemory(0, size));
                    written += size;
                }
                catch (IOException)
                {
                }
            }
        }

        return written;
    }

    public Task FreeDiskAsync()
    {
        if (DiskMount is not null)
        {
            File.Delete(Path.Combine(DiskMount, "ballast"));
        }

        return Task.CompletedTask;
    }

    /// <summary>Brings everything back: thaws, heals the network, frees the disk, restarts stores held down.</summary>
    public async Task HealAllAsync()
    {
        if (Lab is not null)
        {
            await Lab.HealAsync();
        }

        await FreeDiskAsync();
        await NormalDisksAsync();
        foreach (var node in Nodes)
        {
            if (node.Frozen)
            {
                await ThawAsync(node.Store);
            }

            if (node.HeldDown || !node.IsRunning)
            {
                await RestartAsync(node.Store);
            }
        }
    }

    /// <summary>SIGKILL of every silo at once, then every silo started again (a whole-cluster crash).</summary>
    public Task CrashAndRestartAllAsync() => UnderGateAsync(async () =>
    {
        foreach (var node in Nodes)
        {
            node.HeldDown = true;
        }

        await Task.WhenAll(Nodes.Select(n => n.KillAsync()));
        foreach (var node in Nodes)
        {
            node.Start();
            node.HeldDown = false;
        }
    });

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_supervisor is not null)
        {
            await _supervisor;
        }

        await Task.WhenAll(Nodes.Select(n => n.StopAsync(TimeSpan.FromSeconds(20))));
        foreach (var node in Nodes)
        {
            node.DisposeWatchdog();
        }

        if (Lab is not null)
        {
            await Lab.DisposeAsync();
        }

        if (DiskMount is not null)
        {
            await Shell.RunAsync("umount", [DiskMount], check: false);
        }

        if (KeepData || _keep)
        {
            _log.WriteLine($"[chaos] data and silo logs kept in {Root}");
            return;
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException e)
        {
            _log.WriteLine($"[chaos] could not delete {Root}: {e.Message}");
        }
    }

    private async Task UnderGateAsync(Func<Task> action)
    {
        await _gate.WaitAsync();
        try
        {
            await action();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Restarts a silo that exited on its own: after 1 s, doubling to 8 s while it keeps dying within 20 s of a start.</summary>
    private async Task SuperviseAsync()
    {
        var backoff = Nodes.ToDictionary(n => n.Store, _ => TimeSpan.FromSeconds(1));
        var started = Nodes.ToDictionary(n => n.Store, _ => Stopwatch.StartNew());
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(200, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            foreach (var node in Nodes)
            {
                if (node.HeldDown || node.IsRunning || node.ExitCode is not int code)
                {
                    continue;
                }

                string what = $"{DateTime.UtcNow:HH:mm:ss.fff} store {node.Store} exited with code {code} (incarnation {node.Incarnations}): {LastMeaningfulLine(node)}";
                if (code == DiskFullExitCode)
                {
                    Interlocked.Increment(ref _diskFullExits);
                }
                else
                {
                    lock (_unexpectedExits)
                    {
                        _unexpectedExits.Add(what);
                    }
                }

                _log.WriteLine($"[chaos] {what}; restarting in {backoff[node.Store].TotalSeconds:F0} s");
                try
                {
                    await Task.Delay(backoff[node.Store], _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                await UnderGateAsync(() =>
                {
                    if (!node.HeldDown && !node.IsRunning)
                    {
                        node.Start();
                    }

                    return Task.CompletedTask;
                });
                backoff[node.Store] = started[node.Store].Elapsed < TimeSpan.FromSeconds(20)
                    ? TimeSpan.FromTicks(Math.Min(backoff[node.Store].Ticks * 2, TimeSpan.FromSeconds(8).Ticks))
                    : TimeSpan.FromSeconds(1);
                started[node.Store].Restart();
            }
        }
    }

    private static string LastMeaningfulLine(SiloNode node)
    {
        var lines = node.LogTail(40).Split('\n');
        var line = lines.LastOrDefault(l => l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains(" crit: ", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal))
            ?? lines.LastOrDefault() ?? "";
        return line.Length > 300 ? line[..300] : line;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    /// <summary>silo/NoKv.Silo/bin/&lt;configuration&gt;/&lt;tfm&gt;/NoKv.Silo.dll of the checkout this harness was built from.</summary>
    private static string LocateSilo()
    {
        var baseDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = baseDirectory.Name, configuration = baseDirectory.Parent?.Name ?? "Release";
        var root = baseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "NoKv.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException($"cannot find the repository (NoKv.sln) above {AppContext.BaseDirectory}");
        }

        string dll = Path.Combine(root.FullName, "silo", "NoKv.Silo", "bin", configuration, framework, "NoKv.Silo.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} not found: build the harness (it builds the silo too)");
    }
}
