using System.Text;
using NoKv.Chaos.Workload;

namespace NoKv.Chaos.Checking;

/// <summary>Checks a run's history key by key (<see cref="RegisterChecker"/>), then again with each key's final read appended.</summary>
public static class HistoryChecker
{
    private const int ShownOperations = 40;

    /// <param name="history">Every operation of the run.</param>
    /// <param name="finalValues">Each key's value read after every silo was restarted (0 = absent); null when the final read could not be made.</param>
    public static CheckResult Check(IReadOnlyList<HistoryOp> history, IReadOnlyDictionary<int, long>? finalValues)
    {
        var violations = new List<string>();
        var lost = new List<string>();
        var undecided = new List<string>();
        long end = 0;
        foreach (var op in history)
        {
            end = Math.Max(end, Math.Max(op.Invoke, op.IsUnknown ? op.Invoke : op.Return));
        }

        var keys = history.GroupBy(o => o.Key).ToDictionary(g => g.Key, g => g.ToList());
        if (finalValues is not null)
        {
            foreach (int key in finalValues.Keys)
            {
                keys.TryAdd(key, []);
            }
        }

        foreach (var (key, ops) in keys.OrderBy(k => k.Key))
        {
            var verdict = new RegisterChecker(ops).Check();
            if (verdict == KeyVerdict.NotLinearizable)
            {
                violations.Add(Describe($"k{key}: history not linearizable", ops));
                continue;
            }

            if (verdict == KeyVerdict.Undecided)
            {
                undecided.Add($"k{key}: search budget exhausted ({ops.Count} operations)");
                continue;
            }

            if (finalValues is null || !finalValues.TryGetValue(key, out long final))
            {
                continue;
            }

            var read = new HistoryOp(-1, OpKind.Get, key, -1, final, 0, false, end + 1, end + 2, OpOutcome.Ok);
            var withFinal = new RegisterChecker(ops.Append(read)).Check();
            if (withFinal == KeyVerdict.NotLinearizable)
            {
                lost.Add(Describe($"k{key}: final value {(final == 0 ? "nil" : final)} after restarting every silo contradicts the history", ops));
            }
            else if (withFinal == KeyVerdict.Undecided)
            {
                undecided.Add($"k{key}: final read: search budget exhausted ({ops.Count} operations)");
            }
        }

        return new CheckResult(keys.Count, violations, lost, undecided);
    }

    private static string Describe(string headline, List<HistoryOp> ops)
    {
        var text = new StringBuilder(headline).Append($" ({ops.Count} operations");
        var shown = ops.OrderBy(o => o.Invoke).ToList();
        if (shown.Count > ShownOperations)
        {
            text.Append($", last {ShownOperations} shown");
            shown = shown.Skip(shown.Count - ShownOperations).ToList();
        }

        text.Append("):");
        foreach (var op in shown)
        {
            text.Append("\n    ").Append(op);
        }

        return text.ToString();
    }
}
