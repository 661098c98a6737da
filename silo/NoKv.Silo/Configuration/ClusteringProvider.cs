namespace NoKv.Silo.Configuration;

/// <summary>How silos find each other (the Orleans membership table).</summary>
public enum ClusteringProvider
{
    /// <summary>Development clustering on one machine: the first silo (primary) holds membership in memory, so losing it stops the cluster.</summary>
    Localhost,

    /// <summary>Membership in Redis (Microsoft.Orleans.Clustering.Redis); needs ConnectionString.</summary>
    Redis,

    /// <summary>Membership in PostgreSQL through ADO.NET (Microsoft.Orleans.Clustering.AdoNet + Npgsql); needs ConnectionString and the Orleans schema.</summary>
    AdoNet,

    /// <summary>Membership in a file shared by the silos of one machine (or one shared file system); no silo is special. The table's directory is MembershipDirectory (default: "membership" beside the data directory).</summary>
    File,
}
