using System.Diagnostics.CodeAnalysis;
using Orleans.Runtime;

namespace NoKv.Replica.Tests.Placement;

/// <summary>Membership as a test sets it: each silo's status, nothing else.</summary>
internal sealed class FakeSiloStatusOracle : ISiloStatusOracle
{
    public Dictionary<SiloAddress, SiloStatus> Statuses { get; } = new();

    public SiloStatus CurrentStatus => SiloStatus.Active;

    public string SiloName => "test";

    public SiloAddress SiloAddress => SiloAddress.Zero;

    public SiloAddress[] GetActiveSilos() => Statuses.Where(s => s.Value == SiloStatus.Active).Select(s => s.Key).ToArray();

    public SiloStatus GetApproximateSiloStatus(SiloAddress siloAddress) => Statuses.GetValueOrDefault(siloAddress, SiloStatus.None);

    public Dictionary<SiloAddress, SiloStatus> GetApproximateSiloStatuses(bool onlyActive = false) =>
        Statuses.Where(s => !onlyActive || s.Value == SiloStatus.Active).ToDictionary(s => s.Key, s => s.Value);

    public bool TryGetSiloName(SiloAddress siloAddress, [NotNullWhen(true)] out string? siloName)
    {
        siloName = Statuses.ContainsKey(siloAddress) ? siloAddress.ToString() : null;
        return siloName is not null;
    }

    public bool IsFunctionalDirectory(SiloAddress siloAddress) => GetApproximateSiloStatus(siloAddress) == SiloStatus.Active;

    public bool IsDeadSilo(SiloAddress silo) => GetApproximateSiloStatus(silo) == SiloStatus.Dead;

    public bool SubscribeToSiloStatusEvents(ISiloStatusListener observer) => false;

    public bool UnSubscribeFromSiloStatusEvents(ISiloStatusListener observer) => false;
}
