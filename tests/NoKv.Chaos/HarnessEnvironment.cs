using NoKv.Chaos.Cluster;
using NoKv.Chaos.Faults;

namespace NoKv.Chaos;

/// <summary>What this machine lets the harness do: namespaces and nftables (partitions), tmpfs mounts (full disks).</summary>
public sealed class HarnessEnvironment
{
    public required bool UseNetns { get; init; }

    public required bool UseTmpfs { get; init; }

    public required string Network { get; init; }

    public required IReadOnlyCollection<FaultKind> AvailableFaults { get; init; }

    /// <summary>Requested faults that cannot run here, each with the reason.</summary>
    public required IReadOnlyList<string> Skipped { get; init; }

    public static async Task<HarnessEnvironment> DetectAsync(ChaosOptions options)
    {
        var skipped = new List<string>();
        string? netnsProblem = options.Network == "loopback" ? "--network loopback" : await NetworkLab.WhyUnavailableAsync();
        if (netnsProblem is not null && options.Network == "netns")
        {
            throw new InvalidOperationException($"--network netns: {netnsProblem}");
        }

        bool tmpfs = Environment.UserName == "root" && OperatingSystem.IsLinux();
        var available = new HashSet<FaultKind> { FaultKind.Kill, FaultKind.LeaderKill, FaultKind.Pause, FaultKind.SlowDisk };
        if (netnsProblem is null)
        {
            available.Add(FaultKind.Partition);
        }
        else if (options.Faults.Contains(FaultKind.Partition))
        {
            skipped.Add($"partition: no network namespaces ({netnsProblem})");
        }

        if (tmpfs)
        {
            available.Add(FaultKind.DiskFull);
        }
        else if (options.Faults.Contains(FaultKind.DiskFull))
        {
            skipped.Add("disk-full: mounting a tmpfs needs root");
        }

        return new HarnessEnvironment
        {
            UseNetns = netnsProblem is null,
            UseTmpfs = tmpfs && options.Faults.Contains(FaultKind.DiskFull),
            Network = netnsProblem is null ? "netns" : "loopback",
            AvailableFaults = available,
            Skipped = skipped,
        };
    }
}
