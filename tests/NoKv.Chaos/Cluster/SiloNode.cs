using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace NoKv.Chaos.Cluster;

/// <summary>
/// One store's silo process across its incarnations: `dotnet NoKv.Silo.dll` (inside the store's network namespace
/// when there is one), output appended to the store's log file by the shell, so no pipe has to be drained here.
/// A watchdog shell per incarnation SIGKILLs the silo if the harness disappears without stopping it.
/// Not thread-safe: owned by <see cref="ChaosCluster"/>, which serializes every action on a node.
/// </summary>
public sealed class SiloNode
{
    private const string WatchdogScript =
        "trap '' INT; while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; kill -KILL \"$2\" 2>/dev/null; exit 0";

    private readonly IReadOnlyList<string> _command;
    private readonly IReadOnlyList<string> _arguments;
    private readonly string? _namespace;
    private Process? _process;
    private Process? _watchdog;

    /// <param name="command">The program and its leading arguments (e.g. <c>dotnet NoKv.Silo.dll</c>, or <c>etcd</c>).</param>
    public SiloNode(int store, IReadOnlyList<string> command, IReadOnlyList<string> arguments, string? networkNamespace, IPEndPoint gateway, string logPath, string dataDirectory)
    {
        Store = store;
        _command = command;
        _arguments = arguments;
        _namespace = networkNamespace;
        Gateway = gateway;
        LogPath = logPath;
        DataDirectory = dataDirectory;
    }

    public int Store { get; }

    public IPEndPoint Gateway { get; }

    public string LogPath { get; }

    public string DataDirectory { get; }

    /// <summary>Set while the harness keeps this silo down or frozen on purpose; the supervisor leaves it alone then.</summary>
    public bool HeldDown { get; set; }

    public bool Frozen { get; set; }

    public int Incarnations { get; private set; }

    public int? ProcessId => _process?.Id;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Exit code of the last incarnation if it has exited.</summary>
    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    public void Start()
    {
        var info = new ProcessStartInfo("bash") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$@\" >>\"$NOKV_CHAOS_SILO_LOG\" 2>&1");
        info.ArgumentList.Add("silo");
        if (_namespace is not null)
        {
            foreach (var part in new[] { "ip", "netns", "exec", _namespace })
            {
                info.ArgumentList.Add(part);
            }
        }

        foreach (var part in _command)
        {
            info.ArgumentList.Add(part);
        }

        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["NOKV_CHAOS_SILO_LOG"] = LogPath;
        info.Environment["DOTNET_gcServer"] = "0";
        File.AppendAllText(LogPath, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} chaos: starting store {Store} (incarnation {Incarnations + 1})\n");
        _process?.Dispose();
        _process = Process.Start(info) ?? throw new InvalidOperationException($"could not start store {Store}");
        Incarnations++;
        Frozen = false;
        StartWatchdog(_process.Id);
    }

    /// <summary>SIGKILL (also ends a frozen process) and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            PosixSignal.Send(p.Id, PosixSignal.Kill);
            await p.WaitForExitAsync();
        }

        Frozen = false;
        File.AppendAllText(LogPath, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} chaos: killed store {Store} with SIGKILL\n");
    }

    public void Freeze()
    {
        if (_process is { HasExited: false } p && PosixSignal.Send(p.Id, PosixSignal.Stop))
        {
            Frozen = true;
        }
    }

    public void Thaw()
    {
        if (_process is { HasExited: false } p)
        {
            PosixSignal.Send(p.Id, PosixSignal.Continue);
        }

        Frozen = false;
    }

    /// <summary>SIGTERM and a clean shutdown, SIGKILL after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process is not { HasExited: false } p)
        {
            return;
        }

        PosixSignal.Send(p.Id, PosixSignal.Continue);
        PosixSignal.Send(p.Id, PosixSignal.Terminate);
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    /// <summary>True once the gateway port accepts connections.</summary>
    public async Task<bool> IsGatewayOpenAsync()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(Gateway, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    public string LogTail(int lines)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all[Math.Max(0, all.Length - lines)..]).TrimEnd();
        }
        catch (IOException e)
        {
            return $"(log {LogPath} unreadable: {e.Message})";
        }
    }

    public void DisposeWatchdog()
    {
        try
        {
            if (_watchdog is { HasExited: false })
            {
                _watchdog.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        _watchdog?.Dispose();
        _watchdog = null;
    }

    private void StartWatchdog(int siloPid)
    {
        DisposeWatchdog();
        var info = new ProcessStartInfo("bash") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(WatchdogScript);
        info.ArgumentList.Add("watchdog");
        info.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(siloPid.ToString(CultureInfo.InvariantCulture));
        _watchdog = Process.Start(info);
    }
}
