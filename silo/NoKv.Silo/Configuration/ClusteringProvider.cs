namespace NoKv.Silo.Configuration;

/// <summary>How silos find each other (the Orleans membership table).</summary>
public enum ClusteringProvider
{
    /// <summary>Development clustering on one machine: the first silo (primary) holds membership in memory.</summary>
    Localhost,

    /// <summary>Membership in Redis (Microsoft.Orleans.Clustering.Redis); needs ConnectionString.</summary>
    Redis,

    /// <summary>Membership in PostgreSQL through ADO.NET (Microsoft.Orleans.Clustering.AdoNet + Npgsql); needs ConnectionString and the Orleans schema.</summary>
    AdoNet,
}
