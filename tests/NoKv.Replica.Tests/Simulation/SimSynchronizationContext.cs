using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using NoKv.Replica.Core;
using NoKv.Replica.StateMachine;

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
    private readonly List<(SendOrPostCallback Callback, object? State)> _ready = new();
    private readonly Thread _owner = Thread.CurrentThread;

    public int LogicalPending => _logical.Count;

    /// <summary>Told what each continuation resumes before it runs (to compare two runs of one seed step by step).</summary>
    public Action<string>? Observer { get; set; }

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
    /// Runs queued work until there is none, no pump is in flight and nothing is awaited: pump continuations (I/O)
    /// whenever they come, logical work only while no pump is in flight. While <paramref name="pumping"/> pumps are in
    /// flight, each is suspended at one await and will post exactly one continuation; all of them are waited for and
    /// the one of the lowest replica runs first, so which engine thread finished first never changes the order. While
    /// <paramref name="awaited"/> holds and no work is queued, it waits for I/O. Each wait lasts up to
    /// <paramref name="stallLimit"/>.
    /// </summary>
    /// <returns>False if nothing arrived within the limit while something was still in flight or awaited.</returns>
    public bool RunUntilIdle(Func<int> pumping, Func<bool> awaited, TimeSpan stallLimit)
    {
        while (true)
        {
            int inFlight = pumping();
            if (inFlight > 0)
            {
                while (_io.TryTake(out var arrived))
                {
                    _ready.Add(arrived);
                }

                while (_ready.Count < inFlight)
                {
                    if (!_io.TryTake(out var arrived, stallLimit))
                    {
                        return false;
                    }

                    _ready.Add(arrived);
                }

                RunReady(IndexOfLowestReplica());
                continue;
            }

            if (_ready.Count > 0)
            {
                RunReady(0);
                continue;
            }

            if (_io.TryTake(out var io))
            {
                Observe("io", io.State);
                io.Callback(io.State);
                continue;
            }

            if (_logical.TryDequeue(out var work))
            {
                Observe("logical", work.State);
                work.Callback(work.State);
                continue;
            }

            if (!awaited())
            {
                return true;
            }

            if (!_io.TryTake(out io, stallLimit))
            {
                return false;
            }

            Observe("io", io.State);
            io.Callback(io.State);
        }
    }

    private void Observe(string kind, object? state)
    {
        if (Observer is { } observer)
        {
            var box = StateMachineBox(state)?.GetType();
            observer($"{kind} {box?.Name}[{string.Join(",", box?.GetGenericArguments().Select(a => a.FullName) ?? [])}]");
        }
    }

    private void RunReady(int index)
    {
        var step = _ready[index];
        _ready.RemoveAt(index);
        Observe("ready", step.State);
        step.Callback(step.State);
    }

    /// <summary>The first (in arrival order) of the ready continuations with the lowest replica id.</summary>
    private int IndexOfLowestReplica()
    {
        int best = 0;
        ulong bestPeer = PeerOf(_ready[0].State);
        for (int i = 1; i < _ready.Count; i++)
        {
            ulong peer = PeerOf(_ready[i].State);
            if (peer < bestPeer)
            {
                best = i;
                bestPeer = peer;
            }
        }

        return best;
    }

    /// <summary>
    /// The replica (peer id, unique in the cluster) whose async method a continuation resumes: the state machine box
    /// is the delegate's target, and the method's <c>this</c> is a field of its state machine.
    /// </summary>
    private static ulong PeerOf(object? state)
    {
        const BindingFlags Fields = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
        object? box = StateMachineBox(state);
        object? machine = box?.GetType().GetField("StateMachine", Fields)?.GetValue(box);
        object? owner = machine?.GetType().GetField("<>4__this", Fields)?.GetValue(machine);
        return owner switch
        {
            ReplicaCore core => ulong.Parse(core.Name.AsSpan(core.Name.LastIndexOf('#') + 1), CultureInfo.InvariantCulture),
            ShardStateMachine stateMachine => stateMachine.PeerId,
            _ => ulong.MaxValue,
        };
    }

    /// <summary>
    /// The async method's state machine box a posted continuation resumes: the target of the posted delegate (an
    /// awaited task's continuation), or the state itself (Task.Yield posts the box with a shared callback).
    /// </summary>
    private static object? StateMachineBox(object? state) => state is Delegate d ? d.Target : state;

    /// <summary>
    /// A pump's own continuation, posted from the simulation thread because the write it awaited completed between
    /// the await's completion check and its registration (the runtime then posts instead of running inline).
    /// </summary>
    private static bool IsPumpStep(object? state)
    {
        string? box = StateMachineBox(state)?.GetType().FullName;
        return box is not null && (box.Contains("ReplicaCore+<PumpAsync>", StringComparison.Ordinal)
            || box.Contains("ReplicaCore+<PersistAsync>", StringComparison.Ordinal)
            || box.Contains("ReplicaCore+<ResumeMergeWaitAsync>", StringComparison.Ordinal)
            || box.Contains("ReplicaCore+<HandleReadyAsync>", StringComparison.Ordinal)
            || box.Contains("ReplicaCore+<MaybeCompactAsync>", StringComparison.Ordinal)
            || box.Contains("ShardStateMachine+<InstallSnapshotAsync>", StringComparison.Ordinal)
            || box.Contains("ShardStateMachine+<ResetAsync>", StringComparison.Ordinal)
            || box.Contains("ShardStateMachine+<PersistAsync>", StringComparison.Ordinal));
    }
}
