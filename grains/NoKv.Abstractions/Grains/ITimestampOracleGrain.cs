using NoKv.Abstractions.Controller;

namespace NoKv.Abstractions.Grains;

/// <summary>
/// The controller's timestamp oracle, reachable from any silo and any client; use key 0
/// (<see cref="ShardMapGrainKeys.Cluster"/>). Each silo answers from its own activation, which coalesces concurrent
/// requests into one commit in the controller group, so the oracle stays available whenever the controller group has
/// a quorum, whichever silo the caller reaches. Clients normally go through NoKv.Client's <c>ITimestampSource</c>,
/// which batches concurrent callers too.
/// </summary>
[Alias("nokv.ITimestampOracleGrain")]
public interface ITimestampOracleGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// <paramref name="count"/> (1 to <see cref="TimestampBatch.MaxCount"/>) consecutive timestamps, each larger than
    /// every timestamp handed to anyone before this call was made.
    /// </summary>
    /// <exception cref="Errors.NoKvTimeoutException">The controller group could not commit in time (no quorum).</exception>
    [Alias("GetTimestamps")]
    Task<TimestampBatch> GetTimestampsAsync(int count);
}
