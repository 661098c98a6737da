namespace NoKv.IntegrationTests.Serializability;

/// <summary>
/// Checks a list-append history for serializability the way Elle does. Every append adds an element unique in the
/// whole history, so the longest list read for a key reveals that key's version order (every other read must be a
/// prefix of it). From the version orders it infers Adya's dependency graph between committed transactions (ww, wr
/// and rw edges) and searches it for cycles, reporting each cycle as the weakest anomaly it shows: G0 (ww only), G1c
/// (ww and wr), G-single (exactly one rw) or G2 (more rw). Also reported: reads of aborted writes (G1a), reads of a
/// transaction's intermediate state (G1b), reads that fit no single order, elements nobody appended or appended
/// twice, and (when the history ends with a read of every key after all writers stopped) committed appends that
/// vanished.
/// Transactions with an unknown outcome count as committed exactly when one of their appends was observed; if none
/// was, nothing in the history depends on them.
/// </summary>
public static class ListAppendChecker
{
    /// <param name="history">Every transaction attempted, with what it read and its outcome.</param>
    /// <param name="finalReadsComplete">True when the history contains, after every writer finished, a committed read
    /// of every key written: then a committed append missing from its key's version order was lost.</param>
    /// <exception cref="ArgumentException">The history reuses an element (the workload broke its own rule).</exception>
    public static CheckResult Check(IReadOnlyList<ListTxn> history, bool finalReadsComplete)
    {
        var anomalies = new List<Anomaly>();
        var writers = new Dictionary<(string Key, int Element), ListTxn>();
        foreach (var txn in history)
        {
            foreach (var op in txn.Ops.Where(o => o.Kind == ListOpKind.Append))
            {
                if (!writers.TryAdd((op.Key, op.Element), txn))
                {
                    throw new ArgumentException($"element {op.Element} is appended to {op.Key} by T{writers[(op.Key, op.Element)].Id} and T{txn.Id}");
                }
            }
        }

        var committedReads = history
            .Where(t => t.Outcome == TxnOutcome.Committed)
            .SelectMany(t => t.Ops.Where(o => o.Kind == ListOpKind.Read).Select(o => (Txn: t, Op: o)))
            .ToList();
        var orders = VersionOrders(committedReads, anomalies);
        var observed = new HashSet<(string, int)>(orders.SelectMany(kv => kv.Value.Select(e => (kv.Key, e))));

        foreach (var (key, order) in orders)
        {
            foreach (int element in order)
            {
                if (!writers.TryGetValue((key, element), out var writer))
                {
                    anomalies.Add(new Anomaly("garbage-read", $"{key} holds {element}, which no transaction appended"));
                }
                else if (writer.Outcome == TxnOutcome.Aborted)
                {
                    anomalies.Add(new Anomaly("G1a", $"{key} holds {element}, appended by aborted {writer}"));
                }
            }
        }

        foreach (var (txn, read) in committedReads.Where(r => r.Op.Observed!.Count > 0))
        {
            int last = read.Observed![^1];
            if (writers.TryGetValue((read.Key, last), out var writer) && writer.Id != txn.Id)
            {
                var own = writer.Ops.Where(o => o.Kind == ListOpKind.Append && o.Key == read.Key).Select(o => o.Element).ToList();
                if (own[^1] != last)
                {
                    anomalies.Add(new Anomaly("G1b", $"T{txn.Id} read {read} ending at {last}, an intermediate append of {writer}"));
                }
            }
        }

        // Unknown outcomes resolved by observation: an observed append proves the commit.
        var effective = history
            .Where(t => t.Outcome == TxnOutcome.Committed
                || (t.Outcome == TxnOutcome.Unknown && t.Ops.Any(o => o.Kind == ListOpKind.Append && observed.Contains((o.Key, o.Element)))))
            .ToDictionary(t => t.Id);

        if (finalReadsComplete)
        {
            foreach (var txn in effective.Values)
            {
                foreach (var op in txn.Ops.Where(o => o.Kind == ListOpKind.Append && !observed.Contains((o.Key, o.Element))))
                {
                    anomalies.Add(new Anomaly("lost-append", $"{txn} committed {op}, missing from the final read of {op.Key}"));
                }
            }
        }

        var graph = new DependencyGraph();
        foreach (var (key, order) in orders)
        {
            for (int i = 1; i < order.Count; i++)
            {
                if (writers.TryGetValue((key, order[i - 1]), out var a) && writers.TryGetValue((key, order[i]), out var b))
                {
                    graph.Add(a.Id, b.Id, DependencyKind.WriteWrite, effective);
                }
            }
        }

        foreach (var (txn, read) in committedReads)
        {
            var order = orders[read.Key];
            int length = read.Observed!.Count;
            if (length > 0 && writers.TryGetValue((read.Key, read.Observed[^1]), out var source))
            {
                graph.Add(source.Id, txn.Id, DependencyKind.WriteRead, effective);
            }

            if (length < order.Count && writers.TryGetValue((read.Key, order[length]), out var next))
            {
                graph.Add(txn.Id, next.Id, DependencyKind.ReadWrite, effective);
            }
        }

        foreach (var cycle in graph.FindCycles())
        {
            anomalies.Add(new Anomaly(cycle.Kind, string.Concat(cycle.Steps.Select(s => $"T{s.From} -{Label(s.Kind)}-> ")) + $"T{cycle.Steps[0].From}"
                + Environment.NewLine + "    " + string.Join(Environment.NewLine + "    ", cycle.Steps.Select(s => effective[s.From].ToString()))));
        }

        return new CheckResult(anomalies, effective.Count, graph.Count(DependencyKind.WriteWrite), graph.Count(DependencyKind.WriteRead), graph.Count(DependencyKind.ReadWrite));
    }

    private static string Label(DependencyKind kind) => kind switch
    {
        DependencyKind.WriteWrite => "ww",
        DependencyKind.WriteRead => "wr",
        _ => "rw",
    };

    /// <summary>Each key's version order: its longest committed read, which every other committed read must prefix.</summary>
    private static Dictionary<string, IReadOnlyList<int>> VersionOrders(List<(ListTxn Txn, ListOp Op)> reads, List<Anomaly> anomalies)
    {
        var orders = new Dictionary<string, IReadOnlyList<int>>(StringComparer.Ordinal);
        foreach (var group in reads.GroupBy(r => r.Op.Key, StringComparer.Ordinal))
        {
            var longest = group.MaxBy(r => r.Op.Observed!.Count).Op.Observed!;
            orders[group.Key] = longest;
            if (longest.Distinct().Count() != longest.Count)
            {
                anomalies.Add(new Anomaly("duplicate-element", $"{group.Key} reads [{string.Join(',', longest)}]"));
            }

            foreach (var (txn, op) in group)
            {
                if (!op.Observed!.SequenceEqual(longest.Take(op.Observed!.Count)))
                {
                    anomalies.Add(new Anomaly("incompatible-order", $"T{txn.Id} read {op}, not a prefix of [{string.Join(',', longest)}]"));
                }
            }
        }

        return orders;
    }
}
