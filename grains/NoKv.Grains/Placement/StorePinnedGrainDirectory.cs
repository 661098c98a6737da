using Orleans.GrainDirectory;
using Orleans.Runtime;

namespace NoKv.Grains.Placement;

/// <summary>
/// The grain directory of replica grains: one that knows nothing and asks nobody. A replica's silo follows from its key
/// (the silo hosting its store, see <see cref="ShardReplicaPlacementDirector"/>), so there is nothing to look up.
/// <para>Why it exists: Orleans looks a grain up in its directory before asking the placement director even when the
/// placement strategy does not use the directory. Under the default (distributed) directory that lookup is a call to
/// the silo owning the grain's directory partition; when that silo has just died and membership has not declared it
/// dead yet (several seconds), every lookup it owns fails and is retried, so a silo with a cold address cache (one that
/// just restarted) could not reach a third of the replicas of the surviving silos: elections stalled until membership
/// caught up (docs/chaos.md, failover). With this directory a lookup answers "unknown" at once, locally, and placement
/// proceeds to the director.</para>
/// <para>Registration is never needed (the strategy does not use the directory), so it is accepted and forgotten.</para>
/// </summary>
public sealed class StorePinnedGrainDirectory : IGrainDirectory
{
    /// <summary>The name replica grains name in their <see cref="GrainDirectoryAttribute"/>.</summary>
    public const string Name = "nokv-store-pinned";

    private static readonly Task<GrainAddress?> Unknown = Task.FromResult<GrainAddress?>(null);

    public Task<GrainAddress?> Lookup(GrainId grainId) => Unknown;

    public Task<GrainAddress?> Register(GrainAddress address) => Task.FromResult<GrainAddress?>(address);

    public Task Unregister(GrainAddress address) => Task.CompletedTask;

    public Task UnregisterSilos(List<SiloAddress> siloAddresses) => Task.CompletedTask;
}
