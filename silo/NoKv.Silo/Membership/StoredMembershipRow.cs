using Orleans;
using Orleans.Runtime;

namespace NoKv.Silo.Membership;

/// <summary>
/// One silo's row as stored in the table file: Orleans' <see cref="MembershipEntry"/> plus the row's etag.
/// Every field of the entry is kept, so a row read back is the row written.
/// </summary>
public sealed class StoredMembershipRow
{
    /// <summary>Changes on every conditional update of the row; <see cref="IMembershipTable.UpdateIAmAlive"/> leaves it alone.</summary>
    public string Etag { get; set; } = "";

    /// <summary>The row key: ip:port@generation (<c>SiloAddress.ToParsableString</c>).</summary>
    public string SiloAddress { get; set; } = "";

    public SiloStatus Status { get; set; }

    public List<StoredSuspicion>? Suspicions { get; set; }

    public int ProxyPort { get; set; }

    public string? HostName { get; set; }

    public string? SiloName { get; set; }

    public string? RoleName { get; set; }

    public int UpdateZone { get; set; }

    public int FaultZone { get; set; }

    public DateTime StartTime { get; set; }

    public DateTime IAmAliveTime { get; set; }

    public static StoredMembershipRow From(MembershipEntry entry, string etag) => new()
    {
        Etag = etag,
        SiloAddress = entry.SiloAddress.ToParsableString(),
        Status = entry.Status,
        Suspicions = entry.SuspectTimes?.Select(s => new StoredSuspicion { Silo = s.Item1.ToParsableString(), Time = s.Item2 }).ToList(),
        ProxyPort = entry.ProxyPort,
        HostName = entry.HostName,
        SiloName = entry.SiloName,
        RoleName = entry.RoleName,
        UpdateZone = entry.UpdateZone,
        FaultZone = entry.FaultZone,
        StartTime = entry.StartTime,
        IAmAliveTime = entry.IAmAliveTime,
    };

    public MembershipEntry ToEntry() => new()
    {
        SiloAddress = Orleans.Runtime.SiloAddress.FromParsableString(SiloAddress),
        Status = Status,
        SuspectTimes = Suspicions?.Select(s => Tuple.Create(Orleans.Runtime.SiloAddress.FromParsableString(s.Silo), s.Time)).ToList(),
        ProxyPort = ProxyPort,
        // Orleans declares these non-null but leaves them unset on some paths; a null is stored and given back as is.
        HostName = HostName!,
        SiloName = SiloName!,
        RoleName = RoleName,
        UpdateZone = UpdateZone,
        FaultZone = FaultZone,
        StartTime = StartTime,
        IAmAliveTime = IAmAliveTime,
    };
}
