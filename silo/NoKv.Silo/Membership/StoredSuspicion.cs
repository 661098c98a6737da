namespace NoKv.Silo.Membership;

/// <summary>One vote that a silo is dead, as stored in the table file (docs/cluster.md, "Membership").</summary>
public sealed class StoredSuspicion
{
    /// <summary>The suspecting silo, in <c>SiloAddress.ToParsableString</c> form.</summary>
    public string Silo { get; set; } = "";

    /// <summary>When it voted (UTC).</summary>
    public DateTime Time { get; set; }
}
