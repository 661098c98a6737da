using NoKv.Abstractions.Sharding;
using NoKv.Grains.Raft;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The simulated links between stores: each batch is dropped, duplicated or delayed by the seeded random source,
/// and nothing crosses a cut link or reaches a store that is down. Delivery decodes with the production codec.
/// </summary>
internal sealed class SimNetwork
{
    private readonly ReplicaSimulation _sim;
    private readonly HashSet<(StoreId From, StoreId To)> _cut = new();

    public SimNetwork(ReplicaSimulation sim) => _sim = sim;

    public long Sent { get; private set; }

    public long Dropped { get; private set; }

    /// <summary>When false, links neither drop nor duplicate (the quiet period before final checks).</summary>
    public bool Faulty { get; set; } = true;

    public bool Send(StoreId from, StoreId to, ShardId shard, byte[] payload, int count)
    {
        Sent++;
        if (_cut.Contains((from, to)) || (Faulty && _sim.Random.NextDouble() < _sim.Options.DropRate))
        {
            // Like a one-way grain call: the sender does not learn about the loss.
            Dropped++;
            TraceMessages("dropped", from, to, shard, payload, count);
            return true;
        }

        int copies = Faulty && _sim.Random.NextDouble() < _sim.Options.DuplicateRate ? 2 : 1;
        for (int i = 0; i < copies; i++)
        {
            long delay = 1 + _sim.Random.Next(_sim.Options.MaxDelayMs);
            _sim.Schedule(delay, () => Deliver(from, to, shard, payload, count));
        }

        return true;
    }

    /// <summary>
    /// A store-level message with no Raft content, as the silo transport's beat (an empty envelope when nothing else
    /// went to that store in a heartbeat interval): it only tells the receiver the sender's store is alive and reachable.
    /// </summary>
    public void Beat(StoreId from, StoreId to)
    {
        if (_cut.Contains((from, to)) || (Faulty && _sim.Random.NextDouble() < _sim.Options.DropRate))
        {
            return;
        }

        long delay = 1 + _sim.Random.Next(_sim.Options.MaxDelayMs);
        _sim.Schedule(delay, () =>
        {
            var target = _sim.Node(to);
            if (!_cut.Contains((from, to)) && target.IsUp)
            {
                // A paused receiver reads it when it runs again.
                target.RunOrHold(() => target.Heard(from));
            }
        });
    }

    public void Isolate(StoreId store)
    {
        foreach (var other in _sim.Stores)
        {
            if (other != store)
            {
                _cut.Add((store, other));
                _cut.Add((other, store));
            }
        }
    }

    public void HealAll() => _cut.Clear();

    /// <summary>Whether <paramref name="store"/> is cut off from every other store.</summary>
    public bool IsIsolated(StoreId store)
    {
        foreach (var other in _sim.Stores)
        {
            if (other != store && !_cut.Contains((store, other)))
            {
                return false;
            }
        }

        return true;
    }

    private void Deliver(StoreId from, StoreId to, ShardId shard, byte[] payload, int count)
    {
        // A group the store does not run (yet: its split is not applied there) keeps the newest few small batches until
        // it opens and drops the rest, as an empty replica grain activation does; Raft resends.
        var target = _sim.Node(to);
        if (target.IsPaused)
        {
            // A stopped process's socket buffers still take the bytes; it reads them when it runs again.
            target.RunOrHold(() => Deliver(from, to, shard, payload, count));
            return;
        }

        if (!target.IsUp || _cut.Contains((from, to)))
        {
            return;
        }

        target.Heard(from);
        if (target.CoreOf(shard) is not { } core)
        {
            target.HoldEarly(shard, from, payload, count);
            return;
        }

        TraceMessages("delivered", from, to, shard, payload, count);
        _ = core.DeliverAsync(from, RaftMessageCodec.ReadAll(payload, count));
    }

    private void TraceMessages(string what, StoreId from, StoreId to, ShardId shard, byte[] payload, int count)
    {
        if (!_sim.TraceReplicas)
        {
            return;
        }

        foreach (var m in RaftMessageCodec.ReadAll(payload, count))
        {
            string context = m.Context.IsEmpty ? "" : $" ctx={System.Text.Encoding.UTF8.GetString(m.Context.Span)}";
            _sim.Trace($"{what} {shard} {from}->{to}: {m.Type} {m.From}->{m.To} term {m.Term} index {m.Index} logTerm {m.LogTerm} commit {m.Commit} entries {m.Entries.Length}{(m.Reject ? $" reject hint {m.RejectHint}" : "")}{context}");
        }
    }
}
