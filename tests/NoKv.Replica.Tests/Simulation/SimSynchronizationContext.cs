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
/// a virtual-time delay) must not run in between in one case and after in the other. So posts are kept apart by
/// origin: continuations posted from other threads (engine writes, snapshot ingestion) are I/O and are what a pump
/// in flight waits for; continuations posted from the simulation thread are logical work and run only when no pump
/// is in flight, in post order.
/// </remarks>
internal sealed class SimSynchronizationContext : SynchronizationContext
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _io = new();
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _logical = new();
    private readonly Thread _owner = Thread.CurrentThread;

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

    /// <summary>
    /// A pump's own continuation, posted from the simulation thread because the write it awaited completed between
    /// the await's completion check and its registration (the runtime then posts instead of running inline). It is
    /// I/O progress of the pump in flight, so it goes with the I/O completions.
    /// </summary>
    private static bool IsPumpStep(object? state)
    {
        string? box = (state as Delegate)?.Target?.GetType().FullName;
        return box is not null && (box.Contains("ReplicaCore+<PumpAsync>", StringComparison.Ordinal)
            || box.Contains("ReplicaCore+<HandleReadyAsync>", StringComparison.Ordinal)
            || box.Contains("ReplicaCore+<MaybeCompactAsync>", StringComparison.Ordinal)
            || box.Contains("ShardStateMachine+<InstallSnapshotAsync>", StringComparison.Ordinal));
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("The simulation never runs work synchronously on another thread's behalf.");

    public override SynchronizationContext CreateCopy() => this;

    public int LogicalPending => _logical.Count;

    /// <summary>What the queued logical work is, for a stall report.</summary>
    public string DescribeLogical() => string.Join("; ", _logical.Select(w => $"{w.Callback.Method.DeclaringType?.Name}.{w.Callback.Method.Name}({w.State?.GetType().FullName}: {(w.State as Delegate)?.Target?.GetType().FullName})"));

    /// <summary>
    /// Runs queued work until there is none and <paramref name="busy"/> is false: I/O completions first whenever a
    /// pump is in flight (waiting up to <paramref name="stallLimit"/> for each), logical work only when none is.
    /// </summary>
    /// <returns>False if a pump in flight got no I/O completion within the limit.</returns>
    public bool RunUntilIdle(Func<bool> busy, TimeSpan stallLimit)
    {
        while (true)
        {
            if (_io.TryTake(out var io))
            {
                io.Callback(io.State);
                continue;
            }

            if (busy())
            {
                if (!_io.TryTake(out io, stallLimit))
                {
                    return false;
                }

                io.Callback(io.State);
                continue;
            }

            if (_logical.TryDequeue(out var work))
            {
                work.Callback(work.State);
                continue;
            }

            return true;
        }
    }
}
