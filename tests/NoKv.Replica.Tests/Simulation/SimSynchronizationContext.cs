using System.Collections.Concurrent;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// A single-threaded synchronization context for the replica simulation, playing the part of an Orleans
/// activation's scheduler: every continuation of the replica cores and simulated clients runs on the simulation's
/// own thread, one at a time.
/// </summary>
/// <remarks>
/// Determinism needs one more rule than an activation's scheduler has. An engine write may complete before or after
/// the core awaits it (the engine's writer thread races the await), so a pump sometimes continues inline and
/// sometimes through a posted continuation. Work the simulation itself queued meanwhile (a client's continuation,
/// a virtual-time delay) must not run in between in one case and after in the other. So posts are kept apart: a
/// pump's own continuations (posted from the engine's threads, or from this thread when the write completed during
/// the await's registration) are I/O, which a pump in flight waits for; everything else posted from this thread is
/// logical work and runs only when no pump is in flight, in post order.
/// </remarks>
internal sealed class SimSynchronizationContext : SynchronizationContext
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _io = new();
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _logical = new();
    private readonly Thread _owner = Thread.CurrentThread;

    public int LogicalPending => _logical.Count;

    public override void Post(SendOrPostCallback d, object? state)
    {
        if (Thread.CurrentThread == _owner && !IsPumpStep(state))
        {
            _logical.Enqueue((d, state));
        }
        else
        {
            _io.Add((d, state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("The simulation never runs work synchronously on another thread's behalf.");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>What the queued logical work is, for a stall report.</summary>
    public string DescribeLogical() => string.Join("; ", _logical.Select(w => (w.State as Delegate)?.Target?.GetType().Name ?? w.Callback.Method.Name));

    /// <summary>
    /// Runs queued work until there is none, no pump is in flight and nothing is awaited: I/O completions whenever
    /// they come, logical work only while no pump is in flight (<paramref name="pumping"/>). While a pump is in
    /// flight, or while <paramref name="awaited"/> holds and no work is queued, it waits for I/O, up to
    /// <paramref name="stallLimit"/> each time.
    /// </summary>
    /// <returns>False if nothing arrived within the limit while something was still in flight or awaited.</returns>
    public bool RunUntilIdle(Func<bool> pumping, Func<bool> awaited, TimeSpan stallLimit)
    {
        while (true)
        {
            if (_io.TryTake(out var io))
            {
                io.Callback(io.State);
                continue;
            }

            bool inFlight = pumping();
            if (!inFlight && _logical.TryDequeue(out var work))
            {
                work.Callback(work.State);
                continue;
            }

            if (!inFlight && !awaited())
            {
                return true;
            }

            if (!_io.TryTake(out io, stallLimit))
            {
                return false;
            }

            io.Callback(io.State);
        }
    }

    /// <summary>
    /// A pump's own continuation, posted from the simulation thread because the write it awaited completed between
    /// the await's completion check and its registration (the runtime then posts instead of running inline).
    /// </summary>
    private static bool IsPumpStep(object? state)
    {
        string? box = (state as Delegate)?.Target?.GetType().FullName;
        return box is not null && (box.Contains("ReplicaCore+<PumpAsync>", StringComparison.Ordinal)
            || box.Contains("ReplicaCore+<HandleReadyAsync>", StringComparison.Ordinal)
            || box.Contains("ReplicaCore+<MaybeCompactAsync>", StringComparison.Ordinal)
            || box.Contains("ShardStateMachine+<InstallSnapshotAsync>", StringComparison.Ordinal));
    }
}
