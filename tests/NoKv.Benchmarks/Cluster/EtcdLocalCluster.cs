using System.Diagnostics;
using System.Globalization;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The local 3-member etcd cluster of etcd/start-etcd-cluster.sh (installed next to the benchmark
/// binary). Disposing runs the stop script, which also deletes the data directory.
/// </summary>
public sealed class EtcdLocalCluster : IAsyncDisposable
{
    private EtcdLocalCluster(string endpoints, IReadOnlyList<int> processIds)
    {
        Endpoints = endpoints;
        ProcessIds = processIds;
    }

    /// <summary>Comma-separated client URLs of the three members.</summary>
    public string Endpoints { get; }

    /// <summary>The members' process ids, from the script's state file (empty if it could not be read).</summary>
    public IReadOnlyList<int> ProcessIds { get; }

    public static async Task<EtcdLocalCluster> StartAsync(CancellationToken cancellationToken)
    {
        var output = await RunScriptAsync("start-etcd-cluster.sh", cancellationToken).ConfigureAwait(false);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0)
        {
            throw new InvalidOperationException("start-etcd-cluster.sh printed no endpoints");
        }
        return new EtcdLocalCluster(lines[^1], ReadProcessIds());
    }

    /// <summary>Parses the PIDS="..." line of the state file start-etcd-cluster.sh writes (same path rule as the script).</summary>
    private static int[] ReadProcessIds()
    {
        var stateFile = Environment.GetEnvironmentVariable("NOKV_ETCD_STATE") is { Length: > 0 } explicitPath
            ? explicitPath
            : Path.Combine(Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } tmp ? tmp : "/tmp", "nokv-etcd-cluster.state");
        try
        {
            foreach (var line in File.ReadLines(stateFile))
            {
                if (line.StartsWith("PIDS=", StringComparison.Ordinal))
                {
                    return line["PIDS=".Length..].Trim('"').Split(' ', StringSplitOptions.RemoveEmptyEntries)
                        .Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
                }
            }
        }
        catch (Exception exception) when (exception is IOException or FormatException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"[etcd] no member pids from {stateFile} ({exception.Message}): server CPU is not measured");
        }
        return [];
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
