using NoKv.Abstractions.Controller;
using NoKv.Replica.Commands;

namespace NoKv.Replica.Controller;

/// <summary>
/// The cluster's command format level (docs/format-commands.md, "Gate"): the lowest <see cref="CommandFormatLevel"/>
/// among the stores the controller has recorded and not removed, each at the level of its latest heartbeat. A recorded
/// store not heard from since this controller started counts as <see cref="CommandFormatLevel.Base"/>: it may come
/// back on any build, and its replicas must not meet entries they cannot read. So a silent store, a store of an older
/// build, or a controller that has just started holds new commands back; none of them makes them unsafe.
/// </summary>
public static class ClusterFormatLevel
{
    /// <param name="recorded">The store rows of the committed controller state.</param>
    /// <param name="heartbeats">The latest heartbeat of every store heard from (a store not yet recorded counts too).</param>
    public static int Compute(IEnumerable<StoreRecord> recorded, IEnumerable<StoreHeartbeat> heartbeats)
    {
        var heard = new Dictionary<NoKv.Abstractions.Sharding.StoreId, int>();
        int level = CommandFormatLevel.Current;
        foreach (var heartbeat in heartbeats)
        {
            int reported = CommandFormatLevel.Of(heartbeat);
            heard[heartbeat.Store] = reported;
            level = Math.Min(level, reported);
        }

        foreach (var store in recorded)
        {
            if (store.State != StoreState.Removed)
            {
                level = Math.Min(level, heard.GetValueOrDefault(store.Id, CommandFormatLevel.Base));
            }
        }

        return level;
    }
}
