using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NoKv.IntegrationTests.Infrastructure;

namespace NoKv.IntegrationTests.Deploy;

/// <summary>
/// deploy/local-cluster.sh run for real, with its data in a temporary directory and its ports moved to a free range
/// (NOKV_DATA, NOKV_SILO_PORT_BASE, NOKV_GATEWAY_PORT_BASE, NOKV_HTTP_PORT_BASE, NOKV_RESP_PORT_BASE), so it never touches a developer's cluster. Stopped
/// (supervisors, then SIGTERM) and deleted on dispose.
/// </summary>
public sealed class LocalClusterScript : IDisposable
{
    public LocalClusterScript()
    {
        (SiloPortBase, GatewayPortBase, HttpPortBase, RespPortBase) = FreePortBases();
    }

    public string Data { get; } = Path.Combine(Path.GetTempPath(), "nokv-local-" + Guid.NewGuid().ToString("N")[..12]);

    public int SiloPortBase { get; }

    public int GatewayPortBase { get; }

    public int HttpPortBase { get; }

    public int RespPortBase { get; }

    public IPEndPoint[] Gateways => [.. Enumerable.Range(1, 3).Select(n => new IPEndPoint(IPAddress.Loopback, GatewayPortBase + n))];

    public string[] GatewayArguments => ["--gateway", .. Gateways.Select(g => g.ToString())];

    /// <summary>Runs a script under deploy/ with this cluster's environment; returns exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> RunAsync(string script, params string[] args)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(CliProcess.RepositoryRoot(), "deploy", script));
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["NOKV_DATA"] = Data;
        info.Environment["NOKV_SILO_PORT_BASE"] = SiloPortBase.ToString();
        info.Environment["NOKV_GATEWAY_PORT_BASE"] = GatewayPortBase.ToString();
        info.Environment["NOKV_HTTP_PORT_BASE"] = HttpPortBase.ToString();
        info.Environment["NOKV_RESP_PORT_BASE"] = RespPortBase.ToString();
        info.Environment["NOKV_CLI"] = Path.Combine(CliProcess.RepositoryRoot(), "deploy", "nokv");
        using var process = Process.Start(info)!;

        // Both streams into one transcript, in arrival order.
        var transcript = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (transcript) { transcript.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (transcript) { transcript.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);
        process.WaitForExit();
        lock (transcript)
        {
            return (process.ExitCode, transcript.ToString());
        }
    }

    /// <summary>The running silo's pid of store <paramref name="store"/> (from the script's pid file).</summary>
    public int SiloPid(int store) => int.Parse(File.ReadAllText(Path.Combine(Data, "pids", $"store-{store}.pid")).Trim());

    public void Dispose()
    {
        try
        {
            RunAsync("local-cluster.sh", "stop").GetAwaiter().GetResult();
        }
        finally
        {
            try
            {
                Directory.Delete(Data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Three bases whose next three ports are all free (below the ephemeral range the other tests draw from).</summary>
    private static (int Silo, int Gateway, int Http, int Resp) FreePortBases()
    {
        var random = new Random();
        while (true)
        {
            int silo = random.Next(12000, 17000), gateway = random.Next(20000, 29000), http = random.Next(9000, 11900), resp = random.Next(17000, 19900);
            if (Enumerable.Range(1, 3).All(n => IsFree(silo + n) && IsFree(gateway + n) && IsFree(http + n) && IsFree(resp + n)))
            {
                return (silo, gateway, http, resp);
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
