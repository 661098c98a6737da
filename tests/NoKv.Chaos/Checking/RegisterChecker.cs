using NoKv.Chaos.Workload;

namespace NoKv.Chaos.Checking;

/// <summary>
/// Decides whether one key's history is linearizable against a register (get, put, delete, compare-and-swap), by the
/// Wing-Gong search with Lowe's memoization: the history is a list of call and return events in time order; the search
/// repeatedly takes a call whose operation can take effect next in the current register value, removes the operation
/// from the list and goes on; meeting a return event means the operation it closes was not placed in time, so it
/// backtracks. A (set of placed operations, register value) pair seen before is not explored again, which keeps
/// realistic histories small. An operation with an unknown outcome returns at infinity: it may be placed anywhere after
/// its call, and placing it after everything else is the same as it never having taken effect.
/// Linearizability is compositional, so a history of many keys is checked one key at a time (<see cref="HistoryChecker"/>).
/// Not thread-safe; one instance per key.
/// </summary>
public sealed class RegisterChecker
{
    private readonly HistoryOp[] _ops;
    private readonly long _maxStates;

    /// <param name="ops">Operations of one key; unknown-outcome reads are ignored (they cannot constrain anything).</param>
    /// <param name="maxStates">Search budget (memoized states) before <see cref="KeyVerdict.Undecided"/>.</param>
    public RegisterChecker(IEnumerable<HistoryOp> ops, long maxStates = 5_000_000)
    {
        _ops = ops.Where(o => !(o.Kind == OpKind.Get && o.IsUnknown)).ToArray();
        _maxStates = maxStates;
    }

    public KeyVerdict Check()
    {
        int n = _ops.Length;
        if (n == 0)
        {
            return KeyVerdict.Linearizable;
        }

        // Events: call of op i = 2i, return of op i = 2i + 1; a call sorts before a return at the same instant (the two
        // operations overlap), and an unknown outcome returns after everything.
        var events = new int[2 * n];
        for (int i = 0; i < events.Length; i++)
        {
            events[i] = i;
        }

        Array.Sort(events, (a, b) =>
        {
            long ta = Time(a), tb = Time(b);
            if (ta != tb)
            {
                return ta.CompareTo(tb);
            }

            return (a & 1).CompareTo(b & 1);
        });

        // Doubly linked list over the events with a head sentinel at index 2n.
        int head = 2 * n;
        var next = new int[2 * n + 1];
        var prev = new int[2 * n + 1];
        int last = head;
        foreach (int e in events)
        {
            next[last] = e;
            prev[e] = last;
            last = e;
        }

        next[last] = -1;

        var placed = new ulong[(n + 63) / 64];
        var seen = new HashSet<StateKey>();
        var stack = new Stack<(int Call, long State)>();
        long state = 0;
        int entry = next[head];
        while (next[head] != -1)
        {
            if ((entry & 1) == 0)
            {
                int op = entry >> 1;
                if (TryStep(_ops[op], state, out long after))
                {
                    placed[op >> 6] |= 1UL << (op & 63);
                    if (seen.Add(new StateKey(placed, after)))
                    {
                        if (seen.Count > _maxStates)
                        {
                            return KeyVerdict.Undecided;
                        }

                        stack.Push((entry, state));
                        state = after;
                        Lift(entry, next, prev);
                        entry = next[head];
                        continue;
                    }

                    placed[op >> 6] &= ~(1UL << (op & 63));
                }

                entry = next[entry];
            }
            else
            {
                if (stack.Count == 0)
                {
                    return KeyVerdict.NotLinearizable;
                }

                var (call, before) = stack.Pop();
                int op = call >> 1;
                placed[op >> 6] &= ~(1UL << (op & 63));
                state = before;
                Unlift(call, next, prev);
                entry = next[call];
            }
        }

        return KeyVerdict.Linearizable;
    }

    private long Time(int e)
    {
        var op = _ops[e >> 1];
        return (e & 1) == 0 ? op.Invoke : op.Return;
    }

    /// <summary>Removes a call and its return from the list.</summary>
    private static void Lift(int call, int[] next, int[] prev)
    {
        int ret = call | 1;
        next[prev[call]] = next[call];
        if (next[call] != -1)
        {
            prev[next[call]] = prev[call];
        }

        next[prev[ret]] = next[ret];
        if (next[ret] != -1)
        {
            prev[next[ret]] = prev[ret];
        }
    }

    /// <summary>Puts back what <see cref="Lift"/> removed (in reverse order, so the neighbours' links are the ones it saw).</summary>
    private static void Unlift(int call, int[] next, int[] prev)
    {
        int ret = call | 1;
        next[prev[ret]] = ret;
        if (next[ret] != -1)
        {
            prev[next[ret]] = ret;
        }

        next[prev[call]] = call;
        if (next[call] != -1)
        {
            prev[next[call]] = call;
        }
    }

    /// <summary>The register after <paramref name="op"/> takes effect on <paramref name="state"/>; false if its result contradicts it.</summary>
    internal static bool TryStep(HistoryOp op, long state, out long after)
    {
        switch (op.Kind)
        {
            case OpKind.Get:
                after = state;
                return op.Value == state;
            case OpKind.Put:
                after = op.Value;
                return true;
            case OpKind.Delete:
                after = 0;
                return true;
            default:
                bool matches = op.Expected == state;
                after = matches ? op.Value : state;
                return op.IsUnknown || op.Swapped == matches;
        }
    }

    /// <summary>A memoized search state: which operations are placed, and the register value.</summary>
    private readonly struct StateKey : IEquatable<StateKey>
    {
        private readonly ulong[] _placed;
        private readonly long _state;
        private readonly int _hash;

        public StateKey(ulong[] placed, long state)
        {
            _placed = (ulong[])placed.Clone();
            _state = state;
            var hash = new HashCode();
            hash.Add(state);
            foreach (ulong word in _placed)
            {
                hash.Add(word);
            }

            _hash = hash.ToHashCode();
        }

        public bool Equals(StateKey other) => _state == other._state && _placed.AsSpan().SequenceEqual(other._placed);

        public override bool Equals(object? obj) => obj is StateKey other && Equals(other);

        public override int GetHashCode() => _hash;
    }
}
