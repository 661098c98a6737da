using NoKv.Chaos.Faults;
using NoKv.Chaos.Workload;

namespace NoKv.Chaos.Reporting;

/// <summary>Unavailability read off a history: how long shards went without completing an operation.</summary>
public static class Availability
{
    /// <summary>How long after a fault is healed its effects (restart, rejoin, leader moving back) are still charged to it.</summary>
    public static readonly TimeSpan Aftermath = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The fault's unavailability window: the longest time any shard went without a successful completion inside
    /// [fault start, min(healed + <see cref="Aftermath"/>, next fault's start, end of the workload)], counting from the
    /// fault's start to the shard's first completion. A shard the fault did not touch keeps completing every few
    /// milliseconds, so the window is that of the worst-hit shard.
    /// </summary>
    public static Window Window(IReadOnlyList<HistoryOp> history, int shards, InjectedFault fault, long until)
    {
        long end = Math.Min(fault.Healed + RunClock.FromMilliseconds(Aftermath.TotalMilliseconds), until);
        long worst = 0, worstFrom = fault.Start;
        int worstShard = 0;
        for (int shard = 0; shard < shards; shard++)
        {
            long last = fault.Start;
            foreach (long done in Completions(history, shard, fault.Start, end).Append(end))
            {
                if (done - last > worst)
                {
                    (worst, worstFrom, worstShard) = (done - last, last, shard);
                }

                last = done;
            }
        }

        return new Window(RunClock.ToMilliseconds(worst), worstShard, RunClock.ToMilliseconds(worstFrom - fault.Start));
    }

    /// <summary>Times of successful completions of <paramref name="shard"/> in [from, to], in order.</summary>
    public static IEnumerable<long> Completions(IReadOnlyList<HistoryOp> history, int shard, long from, long to) =>
        history.Where(o => o.Shard == shard && !o.IsUnknown && o.Return >= from && o.Return <= to).Select(o => o.Return).Order();
}
