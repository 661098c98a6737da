using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// One NoKV silo process started by <see cref="NoKvLocalCluster"/>: `dotnet NoKv.Silo.dll` with its own
/// store id, data directory and ports, its output in a log file. A small watchdog shell (one per silo)
/// sends the silo SIGTERM, then SIGKILL after a grace period, if the benchmark process disappears without
/// stopping it (killed, crashed): a benchmark never leaves silos running behind it.
/// Not thread-safe; owned by the launcher.
/// </summary>
public sealed class SiloProcess : IDisposable
{
    // Runs as `bash -c SCRIPT watchdog PARENT_PID SILO_PID`. Ignores SIGINT so that a Ctrl-C in the
    // terminal (sent to the whole process group) leaves the cleanup to the benchmark, which handles it.
    private const string WatchdogScript =
        "trap '' INT; parent=$1; child=$2; " +
        "while kill -0 \"$parent\" 2>/dev/null; do sleep 1; done; " +
        "kill -TERM \"$child\" 2>/dev/null || exit 0; " +
        "for _ in $(seq 1 400); do kill -0 \"$child\" 2>/dev/null || exit 0; sleep 0.1; done; " +
        "kill -KILL \"$child\" 2>/dev/null; exit 0";

    private readonly Process _process;
    private readonly Process? _watchdog;

    private SiloProcess(int storeId, int siloPort, int gatewayPort, string logPath, Process process, Process? watchdog)
    {
        StoreId = storeId;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        LogPath = logPath;
        _process = process;
        _watchdog = watchdog;
    }

    public int StoreId { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public string LogPath { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts the silo. <paramref name="arguments"/> are passed to NoKv.Silo after the dll path. Output
    /// (stdout and stderr) goes to <paramref name="logPath"/> through the shell, so no pipe has to be
    /// drained by this process; `exec` keeps the silo's PID the one signalled later.
    /// </summary>
    public static SiloProcess Start(string siloDll, int storeId, int siloPort, int gatewayPort, IReadOnlyList<string> arguments, string logPath)
    {
        var info = new ProcessStartInfo("bash") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$@\" >\"$NOKV_BENCH_SILO_LOG\" 2>&1");
        info.ArgumentList.Add("silo");
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(siloDll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["NOKV_BENCH_SILO_LOG"] = logPath;
        // Three silos and the load driver share the machine's cores: server GC would give every process a
        // heap and GC thread per core. Workstation (concurrent) GC is what deploy/local-cluster.sh uses too.
        info.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start store {storeId}");

        Process? watchdog = null;
        try
        {
            var watch = new ProcessStartInfo("bash") { UseShellExecute = false };
            watch.ArgumentList.Add("-c");
            watch.ArgumentList.Add(WatchdogScript);
            watch.ArgumentList.Add("watchdog");
            watch.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            watch.ArgumentList.Add(process.Id.ToString(CultureInfo.InvariantCulture));
            watchdog = Process.Start(watch);
        }
        catch (Exception exception)
        {
            // The silo still runs and is stopped by the launcher; only the crash safety net is missing.
            Console.Error.WriteLine($"[nokv] warning: no watchdog for store {storeId}: {exception.Message}");
        }
        return new SiloProcess(storeId, siloPort, gatewayPort, logPath, process, watchdog);
    }

    /// <summary>True once the gateway port accepts connections.</summary>
    public async Task<bool> IsGatewayOpenAsync(CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, GatewayPort), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Sends SIGTERM (a clean Orleans shutdown: replicas deactivate, the engine closes).</summary>
    public void RequestStop()
    {
        if (!_process.HasExited)
        {
            PosixSignal.Terminate(_process.Id);
        }
    }

    /// <summary>SIGKILL, as a machine that dies would: nothing is flushed or closed.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Waits for the silo to exit; SIGKILLs it if it has not within <paramref name="grace"/>. True if it exited by itself.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan grace)
    {
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>The last lines of the silo's log, for error messages.</summary>
    public string LogTail(int lines)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all[Math.Max(0, all.Length - lines)..]).TrimEnd();
        }
        catch (IOException exception)
        {
            return $"(log {LogPath} unreadable: {exception.Message})";
        }
    }

    /// <summary>Ends the watchdog (the silo is stopped by then) and releases the process handles.</summary>
    public void Dispose()
    {
        if (_watchdog is not null)
        {
            try
            {
                if (!_watchdog.HasExited)
                {
                    _watchdog.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // Exited between the check and the kill.
            }
            _watchdog.Dispose();
        }
        _process.Dispose();
    }
}
