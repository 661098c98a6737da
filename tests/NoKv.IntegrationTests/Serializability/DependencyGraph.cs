namespace NoKv.IntegrationTests.Serializability;

/// <summary>
/// Dependency edges between transactions (several kinds may join one pair) and the search for cycles, each
/// classified by the weakest edge kinds that still close it: first ww alone (G0), then ww and wr (G1c), then one rw
/// edge closed by ww/wr paths (G-single), else G2. One cycle is reported per strongly connected component.
/// </summary>
internal sealed class DependencyGraph
{
    private readonly Dictionary<int, Dictionary<int, int>> _out = new();
    private readonly int[] _counts = new int[3];

    public void Add(int from, int to, DependencyKind kind, IReadOnlyDictionary<int, ListTxn> effective)
    {
        if (from == to || !effective.ContainsKey(from) || !effective.ContainsKey(to))
        {
            return;
        }

        if (!_out.TryGetValue(from, out var targets))
        {
            _out[from] = targets = new Dictionary<int, int>();
        }

        int mask = targets.GetValueOrDefault(to);
        int bit = 1 << (int)kind;
        if ((mask & bit) == 0)
        {
            targets[to] = mask | bit;
            _counts[(int)kind]++;
        }
    }

    public int Count(DependencyKind kind) => _counts[(int)kind];

    public IEnumerable<Cycle> FindCycles()
    {
        const int ww = 1 << (int)DependencyKind.WriteWrite, wr = 1 << (int)DependencyKind.WriteRead, rw = 1 << (int)DependencyKind.ReadWrite;
        foreach (var component in Components(_out.Keys, ww | wr | rw).Where(c => c.Count > 1))
        {
            var within = component.ToHashSet();
            var found = FindCycle(within, ww, "G0") ?? FindCycle(within, ww | wr, "G1c") ?? FindSingleAntiDependency(within, ww | wr) ?? FindCycle(within, ww | wr | rw, "G2");
            if (found is not null)
            {
                yield return found;
            }
        }
    }

    /// <summary>A cycle using only edges in <paramref name="allowed"/> inside <paramref name="within"/>, if any.</summary>
    private Cycle? FindCycle(HashSet<int> within, int allowed, string kind)
    {
        foreach (var component in Components(within, allowed, within).Where(c => c.Count > 1))
        {
            int start = component[0];
            var members = component.ToHashSet();
            var path = ShortestPath(start, start, members, allowed);
            if (path is not null)
            {
                return new Cycle(kind, path);
            }
        }

        return null;
    }

    /// <summary>An rw edge a -> b where b leads back to a over ww/wr edges alone: a cycle with exactly one anti-dependency.</summary>
    private Cycle? FindSingleAntiDependency(HashSet<int> within, int others)
    {
        const int rw = 1 << (int)DependencyKind.ReadWrite;
        foreach (int a in within)
        {
            foreach (var (b, mask) in Targets(a))
            {
                if ((mask & rw) != 0 && within.Contains(b) && ShortestPath(b, a, within, others) is { } back)
                {
                    return new Cycle("G-single", [new CycleStep(a, b, DependencyKind.ReadWrite), .. back]);
                }
            }
        }

        return null;
    }

    /// <summary>Breadth-first: the shortest path from <paramref name="from"/> to <paramref name="to"/> (a cycle when equal, at least one step).</summary>
    private List<CycleStep>? ShortestPath(int from, int to, HashSet<int> within, int allowed)
    {
        var parent = new Dictionary<int, CycleStep>();
        var queue = new Queue<int>();
        queue.Enqueue(from);
        while (queue.Count > 0)
        {
            int node = queue.Dequeue();
            foreach (var (next, mask) in Targets(node))
            {
                if ((mask & allowed) == 0 || !within.Contains(next))
                {
                    continue;
                }

                var step = new CycleStep(node, next, Weakest(mask & allowed));
                if (next == to)
                {
                    var path = new List<CycleStep> { step };
                    for (int at = node; at != from; at = parent[at].From)
                    {
                        path.Add(parent[at]);
                    }

                    path.Reverse();
                    return path;
                }

                if (next != from && parent.TryAdd(next, step))
                {
                    queue.Enqueue(next);
                }
            }
        }

        return null;
    }

    private static DependencyKind Weakest(int mask) =>
        (mask & (1 << (int)DependencyKind.WriteWrite)) != 0 ? DependencyKind.WriteWrite
        : (mask & (1 << (int)DependencyKind.WriteRead)) != 0 ? DependencyKind.WriteRead
        : DependencyKind.ReadWrite;

    private IEnumerable<KeyValuePair<int, int>> Targets(int node) =>
        _out.TryGetValue(node, out var targets) ? targets : [];

    /// <summary>Strongly connected components (Tarjan's, iterative) over edges in <paramref name="allowed"/>.</summary>
    private List<List<int>> Components(IEnumerable<int> nodes, int allowed, HashSet<int>? within = null)
    {
        var index = new Dictionary<int, int>();
        var low = new Dictionary<int, int>();
        var onStack = new HashSet<int>();
        var stack = new Stack<int>();
        var result = new List<List<int>>();
        int counter = 0;
        foreach (int root in nodes.ToList())
        {
            if (index.ContainsKey(root))
            {
                continue;
            }

            var work = new Stack<(int Node, IEnumerator<KeyValuePair<int, int>> Edges)>();
            index[root] = low[root] = counter++;
            stack.Push(root);
            onStack.Add(root);
            work.Push((root, Targets(root).GetEnumerator()));
            while (work.Count > 0)
            {
                var (node, edges) = work.Peek();
                if (edges.MoveNext())
                {
                    var (next, mask) = edges.Current;
                    if ((mask & allowed) == 0 || (within is not null && !within.Contains(next)))
                    {
                        continue;
                    }

                    if (!index.ContainsKey(next))
                    {
                        index[next] = low[next] = counter++;
                        stack.Push(next);
                        onStack.Add(next);
                        work.Push((next, Targets(next).GetEnumerator()));
                    }
                    else if (onStack.Contains(next))
                    {
                        low[node] = Math.Min(low[node], index[next]);
                    }

                    continue;
                }

                work.Pop();
                if (work.Count > 0)
                {
                    int parent = work.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[node]);
                }

                if (low[node] == index[node])
                {
                    var component = new List<int>();
                    int member;
                    do
                    {
                        member = stack.Pop();
                        onStack.Remove(member);
                        component.Add(member);
                    }
                    while (member != node);
                    result.Add(component);
                }
            }
        }

        return result;
    }
}
