using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Orleans.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>
/// A silo whose disk fills up. The engine stops accepting writes at the first failed log write and stays stopped (what
/// the failed write left behind is unknown until a reopen replays the log). Before, the silo served on: every replica
/// failed at its next write, reopened and failed again, thousands of times a second, so the store could neither vote
/// nor append, yet looked alive to Orleans and to clients; a later kill of another store then left shards without a
/// quorum (the 7-8 s chaos windows in docs/chaos.md). Now the silo exits with code 6 so that its supervisor restarts
/// it, and it serves again, with every acknowledged write, once space is freed.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output) : IDisposable
{
    private const string ClusterId = "disk-full-test";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "nokv-diskfull-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly int _siloPort = SiloProcess.FreePort();
    private readonly int _gatewayPort = SiloProcess.FreePort();
    private SiloProcess? _silo;
    private bool _mounted;

    private string Mount => Path.Combine(_root, "disk");

    private string Ballast => Path.Combine(Mount, "ballast");

    [RequiresRootFact]
    public async Task TheSiloExitsWithCode6WhenItsDiskFillsAndServesEveryAcknowledgedWriteAfterARestart()
    {
        Directory.CreateDirectory(Mount);
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", Mount);
        _mounted = true;
        _silo = Start();
        var acknowledged = new Dictionary<string, string>();
        var client = await ConnectAsync();
        int exitCode;
        try
        {
            var kv = client.Services.GetRequiredService<IKvStore>();
            for (int i = 0; i < 50; i++)
            {
                await kv.PutAsync($"k{i:D4}", $"v{i}");
                acknowledged[$"k{i:D4}"] = $"v{i}";
            }

            long filled = FillDisk();
            output.WriteLine($"ballast {filled >> 20} MiB; writing until the silo exits");

            // Writes now fail at the log (or succeed into a log page the tmpfs already had); keep going until the engine
            // stops and the silo leaves. Acknowledged ones must survive the restart like the others.
            var deadline = Stopwatch.StartNew();
            var value = new string('x', 4096);
            for (int i = 0; !_silo.HasExited; i++)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the silo kept running on a full disk: " + _silo.RecentLog());
                try
                {
                    await kv.PutAsync($"f{i:D5}", value + i);
                    acknowledged[$"f{i:D5}"] = value + i;
                }
                catch (Exception e) when (e is NoKv.Abstractions.Errors.NoKvException or TimeoutException or OperationCanceledException)
                {
                    await Task.Delay(50);
                }
            }

            exitCode = await _silo.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await StopAsync(client);
        }

        output.WriteLine($"silo exited with code {exitCode}; {acknowledged.Count} writes acknowledged");
        Assert.Equal(6, exitCode);
        Assert.Contains("stopped accepting writes", _silo.RecentLog(), StringComparison.Ordinal);

        // Still full: the silo refuses to start, with the same restartable code, and says why.
        _silo.Dispose();
        _silo = Start();
        Assert.Equal(6, await _silo.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("full", _silo.RecentLog(), StringComparison.Ordinal);

        File.Delete(Ballast);
        _silo.Dispose();
        _silo = Start();
        var restarted = await ConnectAsync();
        try
        {
            var kv = restarted.Services.GetRequiredService<IKvStore>();
            foreach (var (key, expected) in acknowledged)
            {
                Assert.Equal(expected, await kv.GetStringAsync(key));
            }

            await kv.PutAsync("after", "restart");
            Assert.Equal("restart", await kv.GetStringAsync("after"));
        }
        finally
        {
            await StopAsync(restarted);
        }
    }

    public void Dispose()
    {
        _silo?.Dispose();
        if (_mounted)
        {
            using var umount = Process.Start("umount", [Mount]);
            umount.WaitForExit(10_000);
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private SiloProcess Start() => SiloProcess.Start(1,
    [
        "--store-id", "1", "--data-dir", Path.Combine(Mount, "data"),
        "--silo-port", _siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--gateway-port", _gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--resp-port", SiloProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--cluster-id", ClusterId, "--service-id", ClusterId,
        "--Layout:Stores:0", "1", "--Layout:ReplicationFactor", "1", "--Layout:InitialShards", "1",
    ], output);

    private Task<IHost> ConnectAsync() =>
        ProcessClusterClient.ConnectAsync(
            ClusterId,
            c => c.UseStaticClustering(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, _gatewayPort)),
            TimeSpan.FromSeconds(3));

    /// <summary>Writes a ballast file until the tmpfs has no byte left; returns its size.</summary>
    private long FillDisk()
    {
        var chunk = new byte[1 << 20];
        long written = 0;
        using var file = new FileStream(Ballast, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
        for (int size = chunk.Length; size >= 512;)
        {
            try
            {
                file.Write(chunk, 0, size);
                written += size;
            }
            catch (IOException)
            {
                size /= 2;
            }
        }

        return written;
    }

    private static async Task RunAsync(string command, params string[] arguments)
    {
        using var process = Process.Start(command, arguments);
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)} exited with {process.ExitCode}");
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
        }

        host.Dispose();
    }
}
