using Orleans.Services;

namespace NoKv.Abstractions.Telemetry;

/// <summary>
/// A store's report for operators (the silo's HTTP API and dashboard): its engine, its replicas with their Raft
/// state and sizes, its request rates and latencies over the last minutes, and its recent events. One instance per
/// silo (a grain service, like <see cref="Routing.IStoreService"/>), addressed with <see cref="StoreStatusServiceIds.At"/>;
/// any silo's API asks every silo's instance and merges the answers. Read-only: it changes nothing.
/// </summary>
[Alias("nokv.IStoreStatusService")]
public interface IStoreStatusService : IGrainService
{
    /// <param name="eventsSinceUnixMs">Only events newer than this (Unix milliseconds) are returned; 0 for all kept.</param>
    [Alias("GetReport")]
    Task<StoreReport> GetReportAsync(long eventsSinceUnixMs);
}
