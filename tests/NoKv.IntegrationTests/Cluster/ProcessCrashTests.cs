using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NoKv.Client;
using NoKv.Client.Hosting;
using NoKv.IntegrationTests.Infrastructure;
using Orleans.Configuration;
using Orleans.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>
/// The real thing: three silo processes (the NoKv.Silo executable, as deploy/local-cluster.sh runs it),
/// SIGKILLed together after acknowledged writes and started again over the same data directories.
/// Unlike in-process silo kills this loses everything the processes had not handed to the OS.
/// </summary>
public sealed class ProcessCrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "nokv-proc-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<Process> _processes = new();

    [Fact]
    public async Task AcknowledgedWritesSurviveKillMinus9OfEverySilo()
    {
        string silo = SiloProcess.Binary();
        int[] siloPorts = [SiloProcess.FreePort(), SiloProcess.FreePort(), SiloProcess.FreePort()];
        int[] gatewayPorts = [SiloProcess.FreePort(), SiloProcess.FreePort(), SiloProcess.FreePort()];
        StartAll(silo, siloPorts, gatewayPorts);

        var acknowledged = new Dictionary<string, string>();
        var client = await ClientAsync(gatewayPorts);
        {
            var store = client.Services.GetRequiredService<IKvStore>();
            var writers = Enumerable.Range(0, 8).Select(async w =>
            {
                for (int i = 0; i < 25; i++)
                {
                    string key = $"{(char)('#' + (w * 11) + i)}-p{w}-{i}";
                    await store.PutAsync(key, $"v{w}-{i}");
                    lock (acknowledged)
                    {
                        acknowledged[key] = $"v{w}-{i}";
                    }
                }
            });
            await Task.WhenAll(writers);

            foreach (var process in _processes)
            {
                process.Kill(entireProcessTree: true); // SIGKILL
            }

            foreach (var process in _processes)
            {
                await process.WaitForExitAsync();
            }

            _processes.Clear();
            await StopAsync(client);
        }

        output.WriteLine($"{acknowledged.Count} writes acknowledged before SIGKILL");
        StartAll(silo, siloPorts, gatewayPorts);
        var restarted = await ClientAsync(gatewayPorts);
        try
        {
            var kv = restarted.Services.GetRequiredService<IKvStore>();
            foreach (var (key, value) in acknowledged)
            {
                Assert.Equal(value, await kv.GetStringAsync(key));
            }
        }
        finally
        {
            await StopAsync(restarted);
        }
    }

    private static async Task StopAsync(IHost host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await host.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // The silos are gone; nothing to say goodbye to.
        }

        host.Dispose();
    }

    private void StartAll(string silo, int[] siloPorts, int[] gatewayPorts)
    {
        for (int i = 0; i < 3; i++)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                silo, "--store-id", (i + 1).ToString(), "--data-dir", Path.Combine(_root, $"store-{i + 1}"),
                "--silo-port", siloPorts[i].ToString(), "--gateway-port", gatewayPorts[i].ToString(), "--resp-port", SiloProcess.FreePort().ToString(),
                "--cluster-id", "crash-test", "--service-id", "crash-test", "--Replicas:TickInterval", "00:00:00.050",
            })
            {
                info.ArgumentList.Add(arg);
            }

            if (i > 0)
            {
                info.ArgumentList.Add("--primary");
                info.ArgumentList.Add($"127.0.0.1:{siloPorts[0]}");
            }

            info.Environment["DOTNET_gcServer"] = "0";
            var process = Process.Start(info)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    output.WriteLine($"store {i + 1}: {e.Data}");
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _processes.Add(process);
        }
    }

    private static Task<IHost> ClientAsync(int[] gatewayPorts) =>
        ProcessClusterClient.ConnectAsync(
            "crash-test",
            client => client.UseStaticClustering(gatewayPorts.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToArray()),
            TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
            }
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
