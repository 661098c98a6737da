using NoKv.Replica;

namespace NoKv.Silo.Configuration;

/// <summary>
/// Everything a NoKV silo is configured with. Bound from the configuration root, so the same key works in
/// appsettings.json ("StoreId"), the environment (NOKV_STOREID, NOKV_CLUSTERING__PROVIDER) and the command
/// line (--StoreId or the short forms in <see cref="CommandLineSwitches"/>).
/// </summary>
public sealed class SiloSettings
{
    /// <summary>Orleans cluster id: silos and clients with the same id form one cluster.</summary>
    public string ClusterId { get; set; } = "nokv";

    /// <summary>Orleans service id; stable across redeployments of the same cluster.</summary>
    public string ServiceId { get; set; } = "nokv";

    /// <summary>Silo name for logs and membership; defaults to "store-{StoreId}".</summary>
    public string? SiloName { get; set; }

    /// <summary>This silo's store id (required, 1 and up).</summary>
    public int StoreId { get; set; }

    /// <summary>Where this store's data lives; defaults to ./data/store-{StoreId}.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Address other silos and clients use to reach this one; defaults to loopback for Localhost clustering.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// Local address the silo and gateway ports listen on (NOKV_LISTENADDRESS, --listen-address). Unset: the advertised
    /// address, so a silo listens on one interface, never on all of them unless told to (0.0.0.0 or ::, e.g. in a
    /// container whose advertised address belongs to the host).
    /// </summary>
    public string? ListenAddress { get; set; }

    /// <summary>The engine's memtable size in bytes (NOKV_MEMTABLESIZEBYTES); null keeps the store's default.</summary>
    public long? MemtableSizeBytes { get; set; }

    /// <summary>Nice value of the engine's flush and compaction threads (NOKV_BACKGROUNDTHREADNICE, 0-19, 0 = off); null keeps the store's default.</summary>
    public int? BackgroundThreadNice { get; set; }

    /// <summary>Table files handed to the device every this many bytes (NOKV_TABLEBYTESPERSYNC, 0 = off); null keeps the store's default.</summary>
    public long? TableBytesPerSync { get; set; }

    /// <summary>Bound on flush plus compaction table writes per second (NOKV_BACKGROUNDWRITEBYTESPERSECOND, 0 = unbounded); null keeps the store's default.</summary>
    public long? BackgroundWriteBytesPerSecond { get; set; }

    /// <summary>Obsolete logs deleted this many bytes at a time (NOKV_LOGDELETESTEPBYTES, 0 = at once); null keeps the store's default.</summary>
    public long? LogDeleteStepBytes { get; set; }

    /// <summary>
    /// A log sync at least this many milliseconds long is slow (NOKV_SLOWSYNCTHRESHOLDMS; 0 = slow-disk detection off); a
    /// store whose disk is slow sheds its Raft leadership (docs/replica.md, "Slow disks"). Null keeps the store's default (200).
    /// </summary>
    public int? SlowSyncThresholdMs { get; set; }

    /// <summary>Engine memory budget in bytes (--memory-budget, NOKV_MEMORYBUDGETBYTES; 0 = none); null keeps the store's default.</summary>
    public long? MemoryBudgetBytes { get; set; }

    /// <summary>Engine block codec per level, e.g. "none,none,lz4,zstd" (--compression, NOKV_COMPRESSION); null keeps the store's default.</summary>
    public string? Compression { get; set; }

    /// <summary>Console log format: Simple (default) or Json (--log-format, NOKV_LOGFORMAT).</summary>
    public string LogFormat { get; set; } = nameof(Configuration.LogFormat.Simple);

    public ClusteringSettings Clustering { get; set; } = new();

    /// <summary>HTTP port for /metrics, the JSON API and the dashboard (off unless Http:Port is set).</summary>
    public HttpSettings Http { get; set; } = new();

    /// <summary>OpenTelemetry exporters and tracing.</summary>
    public TelemetrySettings Telemetry { get; set; } = new();

    /// <summary>The Redis-protocol gateway.</summary>
    public RespSettings Resp { get; set; } = new();

    /// <summary>Client authentication (off unless Auth:Enabled).</summary>
    public AuthSettings Auth { get; set; } = new();

    /// <summary>Test and chaos switches, off by default; refused with authentication on.</summary>
    public DebugSettings Debug { get; set; } = new();

    /// <summary>Bootstrap layout; must be identical on every silo.</summary>
    public LayoutSettings Layout { get; set; } = new();

    public ReplicaOptions Replicas { get; set; } = new();

    public string EffectiveSiloName => string.IsNullOrWhiteSpace(SiloName) ? $"store-{StoreId}" : SiloName;

    public string EffectiveDataDirectory => Path.GetFullPath(string.IsNullOrWhiteSpace(DataDirectory) ? Path.Combine("data", $"store-{StoreId}") : DataDirectory);

    /// <summary>File clustering's table directory: as configured, else "membership" beside the data directory (data/store-1 -> data/membership).</summary>
    public string EffectiveMembershipDirectory => Path.GetFullPath(string.IsNullOrWhiteSpace(Clustering.MembershipDirectory)
        ? Path.Combine(Path.GetDirectoryName(EffectiveDataDirectory.TrimEnd(Path.DirectorySeparatorChar)) ?? ".", "membership")
        : Clustering.MembershipDirectory);
}
