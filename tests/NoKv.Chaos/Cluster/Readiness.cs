using System.Diagnostics;

namespace NoKv.Chaos.Cluster;

/// <summary>
/// Whether the cluster has recovered from the last fault: every silo runs (none held down or frozen), every data shard
/// has a leader, every replica answers its status, and the leaders have not changed for a while. A fault injected
/// before that lands on a cluster still missing a store (a restart takes seconds on a loaded machine), so its window
/// would measure two faults at once: with one store still rejoining, killing another leaves shards without a quorum.
/// </summary>
public static class Readiness
{
    /// <summary>
    /// Waits until the cluster is healthy and its leaders have been the same for <paramref name="stableFor"/>; returns the
    /// leaders, or null when <paramref name="timeout"/> passed first (<paramref name="why"/> then says what was missing).
    /// </summary>
    public static async Task<(Dictionary<long, int>? Leaders, string Why)> WaitAsync(ChaosCluster cluster, IClusterView view, int shards, TimeSpan stableFor, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        Dictionary<long, int>? previous = null;
        var stableSince = Stopwatch.StartNew();
        string why = "no status yet";
        while (true)
        {
            try
            {
                var (leaders, silent) = await view.StatusAsync();
                if (previous is null || leaders.Count != previous.Count || leaders.Any(l => !previous.TryGetValue(l.Key, out int s) || s != l.Value))
                {
                    previous = leaders;
                    stableSince.Restart();
                }

                var down = cluster.Nodes.Where(n => !n.IsRunning || n.Frozen || n.HeldDown).Select(n => n.Store).ToList();
                why = down.Count > 0 ? $"stores [{string.Join(",", down)}] down"
                    : leaders.Count < shards ? $"{shards - leaders.Count} shard(s) without a leader"
                    : silent > 0 ? $"{silent} replica(s) not answering"
                    : stableSince.Elapsed < stableFor ? "leaders still moving"
                    : "";
                if (why.Length == 0)
                {
                    return (leaders, why);
                }
            }
            catch (Exception e)
            {
                why = $"status failed: {e.GetType().Name}";
            }

            if (clock.Elapsed > timeout)
            {
                return (null, why);
            }

            await Task.Delay(500, cancellationToken);
        }
    }
}
