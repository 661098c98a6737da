namespace NoKv.Silo.Configuration;

/// <summary>Membership settings. Provider is validated at start; an unknown name fails with the list of known ones.</summary>
public sealed class ClusteringSettings
{
    /// <summary>Localhost (default), File, Redis or AdoNet.</summary>
    public string Provider { get; set; } = nameof(ClusteringProvider.Localhost);

    /// <summary>Localhost only: the primary silo's silo-to-silo endpoint, e.g. 127.0.0.1:11111. Empty = this silo is the primary.</summary>
    public string? PrimarySiloEndpoint { get; set; }

    /// <summary>File only: the directory holding the shared membership table; defaults to a "membership" directory beside the data directory.</summary>
    public string? MembershipDirectory { get; set; }

    /// <summary>Redis or PostgreSQL connection string.</summary>
    public string? ConnectionString { get; set; }
}
