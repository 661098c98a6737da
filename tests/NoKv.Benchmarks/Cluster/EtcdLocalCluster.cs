using System.Diagnostics;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The local 3-member etcd cluster of etcd/start-etcd-cluster.sh (installed next to the benchmark
/// binary). Disposing runs the stop script, which also deletes the data directory.
/// </summary>
public sealed class EtcdLocalCluster : IAsyncDisposable
{
    private EtcdLocalCluster(string endpoints) => Endpoints = endpoints;

    /// <summary>Comma-separated client URLs of the three members.</summary>
    public string Endpoints { get; }

    public static async Task<EtcdLocalCluster> StartAsync(CancellationToken cancellationToken)
    {
        var output = await RunScriptAsync("start-etcd-cluster.sh", cancellationToken).ConfigureAwait(false);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0)
        {
            throw new InvalidOperationException("start-etcd-cluster.sh printed no endpoints");
        }
        return new EtcdLocalCluster(lines[^1]);
    }

    public async ValueTask DisposeAsync() =>
        await RunScriptAsync("stop-etcd-cluster.sh", CancellationToken.None).ConfigureAwait(false);

    private static async Task<string> RunScriptAsync(string script, CancellationToken cancellationToken)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "etcd", script);
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(path);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not run {path}");
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed with exit code {process.ExitCode}");
        }
        return output;
    }
}
