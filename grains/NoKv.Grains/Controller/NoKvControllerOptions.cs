namespace NoKv.Grains.Controller;

/// <summary>Timing of the controller's logic in each silo (docs/controller.md). All silos should use the same values.</summary>
public sealed class NoKvControllerOptions
{
    /// <summary>How long one call to one controller replica may take before the next replica is tried.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a controller read or write keeps retrying (across elections) before it fails.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Period of each store's heartbeat to the controller.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A store not heard from for this long is marked down (a committed transition).</summary>
    public TimeSpan StoreDownAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a silo serves the shard map from its cache before reading it from the controller again.</summary>
    public TimeSpan MapCacheTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Period of the operation loop (moves, re-replication, decommission, leadership transfers).</summary>
    public TimeSpan OperationInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>At most this many operations run at once (re-replicating a dead store's shards included).</summary>
    public int MaxOperations { get; set; } = 8;

    /// <summary>How long an operation step may make no progress before it rolls back or gives up (see ReplicaMoveOptions.StepTimeout).</summary>
    public TimeSpan OperationStepTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a leadership transfer may take before it is abandoned.</summary>
    public TimeSpan LeaderTransferTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
