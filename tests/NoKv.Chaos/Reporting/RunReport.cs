namespace NoKv.Chaos.Reporting;

/// <summary>One chaos run's figures (also the JSON written by --json).</summary>
public sealed class RunReport
{
    public required int Run { get; init; }

    public required int Seed { get; init; }

    public required string System { get; init; }

    public required int Silos { get; init; }

    public required string Network { get; init; }

    public required double Seconds { get; init; }

    public required int OperationsOk { get; init; }

    public required int OperationsUnknown { get; init; }

    public required int KeysChecked { get; init; }

    public required Dictionary<string, int> FaultsByType { get; init; }

    /// <summary>Unavailability window of each fault, by type, in milliseconds.</summary>
    public required Dictionary<string, List<double>> WindowsMs { get; init; }

    public required List<string> FaultLog { get; init; }

    public required List<string> Violations { get; init; }

    public required List<string> LostWrites { get; init; }

    public required List<string> Undecided { get; init; }

    /// <summary>Keys the read after the full restart could not read at all (counted as lost: their value is unknown).</summary>
    public required List<string> UnreadKeys { get; init; }

    public required List<string> UnexpectedExits { get; init; }

    /// <summary>Replicas that became leader during the workload (silo logs); without faults, each is a spurious election.</summary>
    public int Elections { get; init; }

    /// <summary>Election timeouts that fired during the workload (replicas turned pre-candidate; transfers are not counted).</summary>
    public int ElectionTimeouts { get; init; }

    /// <summary>Silo exits with code 6 (full disk): the designed response, restarted by the supervisor.</summary>
    public int DiskFullExits { get; init; }

    public required Dictionary<string, int> Failures { get; init; }

    public required List<string> SkippedFaults { get; init; }

    /// <summary>A soak's minutes (empty otherwise).</summary>
    public List<Soak.SoakSample> Soak { get; init; } = [];

    /// <summary>A soak's growth verdict per series (empty otherwise).</summary>
    public List<Soak.GrowthCheck.Finding> Growth { get; init; } = [];

    /// <summary>A soak's RSS slope per silo process that lived through most of it (empty otherwise).</summary>
    public List<Soak.GrowthCheck.Slope> RssSlopes { get; init; } = [];
}
