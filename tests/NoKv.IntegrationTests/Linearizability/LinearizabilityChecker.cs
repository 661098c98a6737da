using System.Text;

namespace NoKv.IntegrationTests.Linearizability;

/// <summary>
/// Checks a history of operations on independent keys for linearizability against a register model,
/// Porcupine-style: keys are checked separately (linearizability is compositional), and for each key a
/// depth-first search tries to order the operations so that each takes effect between its invocation and
/// return and every result matches the register. Visited (set of linearized operations, register value)
/// pairs are memoized, which keeps the search small for realistic histories.
/// Pending operations (outcome unknown) may be placed anywhere after their invocation or left out.
/// </summary>
public static class LinearizabilityChecker
{
    /// <summary>Null when every key's history is linearizable; otherwise a description of the first key that is not.</summary>
    public static string? Check(IEnumerable<Operation> history)
    {
        foreach (var group in history.GroupBy(o => o.Key, StringComparer.Ordinal))
        {
            var ops = group.OrderBy(o => o.Invoke).ToArray();
            if (!CheckKey(ops))
            {
                var text = new StringBuilder($"history of key '{group.Key}' is not linearizable ({ops.Length} operations):");
                foreach (var op in ops)
                {
                    text.AppendLine().Append("  ").Append(op);
                }

                return text.ToString();
            }
        }

        return null;
    }

    private static bool CheckKey(Operation[] ops)
    {
        int completed = ops.Count(o => !o.IsPending);
        var linearized = new ulong[(ops.Length + 63) / 64];
        var visited = new HashSet<string>(StringComparer.Ordinal);

        // The search recurses once per linearized operation; a dedicated thread with a large stack keeps
        // long histories (thousands of operations on one key) from overflowing a thread-pool stack.
        bool result = false;
        var thread = new Thread(() => result = Search(ops, linearized, state: null, remaining: completed, visited), maxStackSize: 512 << 20);
        thread.Start();
        thread.Join();
        return result;
    }

    private static bool Search(Operation[] ops, ulong[] linearized, string? state, int remaining, HashSet<string> visited)
    {
        if (remaining == 0)
        {
            return true;
        }

        string memo = MemoKey(linearized, state);
        if (!visited.Add(memo))
        {
            return false;
        }

        // An operation can take effect next only if it was invoked before every other open operation returned.
        long earliestReturn = long.MaxValue;
        for (int i = 0; i < ops.Length; i++)
        {
            if (!IsSet(linearized, i) && ops[i].Return < earliestReturn)
            {
                earliestReturn = ops[i].Return;
            }
        }

        for (int i = 0; i < ops.Length; i++)
        {
            var op = ops[i];
            if (IsSet(linearized, i))
            {
                continue;
            }

            if (op.Invoke > earliestReturn)
            {
                break; // sorted by invocation: no later operation qualifies either
            }

            foreach (var next in Step(state, op))
            {
                Set(linearized, i, true);
                bool found = Search(ops, linearized, next, op.IsPending ? remaining : remaining - 1, visited);
                Set(linearized, i, false);
                if (found)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The register values after <paramref name="op"/> takes effect in <paramref name="state"/>; empty if its result contradicts the state.</summary>
    private static IEnumerable<string?> Step(string? state, Operation op)
    {
        switch (op.Kind)
        {
            case OperationKind.Get:
                if (op.IsPending || op.Value == state)
                {
                    yield return state;
                }

                break;
            case OperationKind.Put:
                yield return op.Value;
                break;
            case OperationKind.Delete:
                yield return null;
                break;
            case OperationKind.CompareAndSwap:
                bool matches = op.Expected == state;
                if (op.IsPending)
                {
                    yield return matches ? op.Value : state;
                }
                else if (op.Swapped == matches)
                {
                    yield return matches ? op.Value : state;
                }

                break;
        }
    }

    private static string MemoKey(ulong[] bits, string? state)
    {
        var text = new StringBuilder(bits.Length * 17 + 8);
        foreach (ulong word in bits)
        {
            text.Append(word.ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
        }

        return text.Append('|').Append(state is null ? "\u0000nil" : state).ToString();
    }

    private static bool IsSet(ulong[] bits, int i) => (bits[i >> 6] & (1UL << (i & 63))) != 0;

    private static void Set(ulong[] bits, int i, bool value)
    {
        if (value)
        {
            bits[i >> 6] |= 1UL << (i & 63);
        }
        else
        {
            bits[i >> 6] &= ~(1UL << (i & 63));
        }
    }
}
