namespace NoKv.Chaos.Faults;

/// <summary>Command-line and report names of <see cref="FaultKind"/>.</summary>
public static class FaultNames
{
    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.Kill => "kill",
        FaultKind.LeaderKill => "leader-kill",
        FaultKind.Pause => "pause",
        FaultKind.Partition => "partition",
        FaultKind.SlowDisk => "slow-disk",
        _ => "disk-full",
    };

    public static FaultKind Parse(string name) =>
        Enum.GetValues<FaultKind>().FirstOrDefault(k => Name(k) == name.Trim(), (FaultKind)(-1)) is var kind && kind != (FaultKind)(-1)
            ? kind
            : throw new ArgumentException($"unknown fault '{name}' (known: {string.Join(", ", Enum.GetValues<FaultKind>().Select(Name))})");
}
