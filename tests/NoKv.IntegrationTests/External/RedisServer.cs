using System.Diagnostics;
using System.Net.Sockets;
using NoKv.IntegrationTests.Infrastructure;

namespace NoKv.IntegrationTests.External;

/// <summary>A throwaway redis-server on a free loopback port, with no persistence; killed on dispose.</summary>
public sealed class RedisServer : IDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        int port = SiloProcess.FreePort();
        var info = new ProcessStartInfo(ExternalTool.RedisServer!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        await Eventually.WaitAsync(
            async () =>
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return true;
            },
            up => up,
            TimeSpan.FromSeconds(20),
            $"redis-server to listen on {port}");
        return server;
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
