using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Balancing;

namespace NoKv.Replica.Tests.Balancing;

/// <summary>
/// A model of the cluster the balancer steers: shard descriptors, store states and operations in flight, changed
/// the way the controller's operations change them (a transfer makes the target the preferred voter; a move adds the
/// target and removes the source, handing the preference over if the source had it; a split adds a shard at the next
/// epoch). Time is a fake clock in milliseconds, one second per round.
/// </summary>
internal sealed class ModelCluster
{
    private readonly Dictionary<StoreId, StoreRecord> _stores = new();
    private readonly List<(OperationRecord Operation, BalanceDecision Decision, int RoundsLeft)> _inFlight = new();
    private ulong _nextPeer = 1_000;
    private long _nextShard;
    private long _nextOperation = 1;

    /// <param name="firstVoter">For shard i, the index in <paramref name="stores"/> of the store it prefers to be led from.</param>
    public ModelCluster(StoreId[] stores, int shards, Func<int, int> firstVoter, Random? random = null)
    {
        foreach (var store in stores)
        {
            AddStore(store);
        }

        for (int i = 0; i < shards; i++)
        {
            var voters = random is null
                ? Enumerable.Range(0, 3).Select(k => stores[(i + k) % stores.Length]).ToArray()
                : stores.OrderBy(_ => random.Next()).Take(3).ToArray();
            // The preferred leader: stores[firstVoter(i)] if it holds a voter of the shard, else the first voter.
            var wanted = stores[firstVoter(i) % stores.Length];
            var ordered = voters.OrderBy(s => s == wanted ? 0 : 1).Select(s => new PeerDescriptor(_nextPeer++, s, PeerRole.Voter)).ToArray();
            byte[] start = i == 0 ? [] : [(byte)(i * 8)];
            byte[] end = i == shards - 1 ? [] : [(byte)((i + 1) * 8)];
            Shards.Add(new ShardDescriptor(new ShardId(i + 1), new KeyRange(start, end), 1, 1, ordered));
        }

        _nextShard = shards + 1;
    }

    public List<ShardDescriptor> Shards { get; } = new();

    public IReadOnlyDictionary<StoreId, StoreRecord> Stores => _stores;

    public IReadOnlyList<OperationRecord> InFlight => _inFlight.Select(o => o.Operation).ToList();

    public long NowMs { get; set; }

    public int Transfers { get; private set; }

    public int Moves { get; private set; }

    public void AddStore(StoreId store) => _stores[store] = new StoreRecord(store, StoreState.Up, 0, 0, 0, $"store-{store}");

    /// <summary>Stores whose heartbeats report a slow disk.</summary>
    public HashSet<StoreId> Slow { get; } = new();

    public void SetState(StoreId store, StoreState state) => _stores[store] = _stores[store] with { State = state };

    public int[] PreferredCounts(StoreId[] stores) => stores.Select(s => Shards.Count(d => d.Replicas[0] == s)).ToArray();

    /// <summary>Shard sizes the leaders report (by shard id); none reported when empty.</summary>
    public Dictionary<ShardId, long> Sizes { get; } = new();

    public long[] StoreBytes(StoreId[] stores) => stores.Select(s => Shards.Where(d => d.HasReplicaOn(s)).Sum(d => Sizes.GetValueOrDefault(d.Id))).ToArray();

    /// <summary>Request rates the leaders report (by shard id); a shard with a size but no rate reports 0.</summary>
    public Dictionary<ShardId, double> Loads { get; } = new();

    /// <summary>Requests per second each store serves as the preferred leader of its shards.</summary>
    public double[] StoreLoads(StoreId[] stores) => stores.Select(s => Shards.Where(d => d.Replicas[0] == s).Sum(d => Loads.GetValueOrDefault(d.Id))).ToArray();

    /// <summary>Requests per second of the shards each store holds a replica of (the figure replica load balancing evens out).</summary>
    public double[] StoreReplicaLoads(StoreId[] stores) => stores.Select(s => Shards.Where(d => d.HasReplicaOn(s)).Sum(d => Loads.GetValueOrDefault(d.Id))).ToArray();

    /// <summary>What the balancer decided in the last round.</summary>
    public IReadOnlyList<BalanceDecision> LastDecisions { get; private set; } = [];

    public Dictionary<ShardId, ShardSample> Samples() =>
        Shards.Where(d => Sizes.ContainsKey(d.Id) || Loads.ContainsKey(d.Id))
            .ToDictionary(d => d.Id, d => new ShardSample(d.Id, d.Epoch, Sizes.TryGetValue(d.Id, out long bytes) ? bytes : null, Loads.GetValueOrDefault(d.Id)));

    public int[] ReplicaCounts(StoreId[] stores) => stores.Select(s => Shards.Count(d => d.HasReplicaOn(s))).ToArray();

    /// <summary>One round: operations in flight advance (finishing ones apply), then the balancer plans; returns its decision count.</summary>
    public int Round(Balancer balancer, int operationRounds = 0)
    {
        NowMs += 1_000;
        for (int i = _inFlight.Count - 1; i >= 0; i--)
        {
            var (operation, decision, left) = _inFlight[i];
            if (left <= 1)
            {
                _inFlight.RemoveAt(i);
                Apply(decision);
            }
            else
            {
                _inFlight[i] = (operation, decision, left - 1);
            }
        }

        var decisions = balancer.Plan(Shards, _stores, InFlight, Samples(), NowMs, 8 - _inFlight.Count, Slow);
        LastDecisions = decisions;
        foreach (var decision in decisions)
        {
            if (operationRounds == 0)
            {
                Apply(decision);
            }
            else
            {
                var record = new OperationRecord(_nextOperation++, decision.Kind, decision.Shard, 0, decision.From, decision.To, 0, NowMs, NowMs, []);
                _inFlight.Add((record, decision, operationRounds));
            }
        }

        return decisions.Count;
    }

    /// <summary>Rounds until nothing is in flight and nothing was decided for longer than the cooldown; returns the rounds taken.</summary>
    public int RunUntilQuiet(Balancer balancer, int maxRounds, int operationRounds = 0)
    {
        int quietNeeded = (int)balancer.Options.ShardCooldown.TotalSeconds + 2;
        int quiet = 0;
        for (int round = 1; round <= maxRounds; round++)
        {
            bool acted = Round(balancer, operationRounds) > 0 || _inFlight.Count > 0;
            quiet = acted ? 0 : quiet + 1;
            if (quiet >= quietNeeded)
            {
                return round;
            }
        }

        return maxRounds;
    }

    public void Apply(BalanceDecision decision)
    {
        int at = Shards.FindIndex(s => s.Id == decision.Shard);
        var shard = Shards[at];
        switch (decision.Kind)
        {
            case OperationKind.TransferLeader:
                Prefer(shard.Id, decision.To!.Value);
                Transfers++;
                break;
            case OperationKind.MoveReplica:
                var source = shard.PeerOn(decision.From!.Value)!.Value;
                var added = new PeerDescriptor(_nextPeer++, decision.To!.Value, PeerRole.Voter);
                var rest = shard.Peers.Where(p => p.PeerId != source.PeerId);
                var peers = shard.Peers[0].PeerId == source.PeerId ? rest.Prepend(added) : rest.Append(added);
                Shards[at] = new ShardDescriptor(shard.Id, shard.Range, shard.Epoch, shard.ConfVersion + 3, peers.ToArray());
                Moves++;
                break;
            case OperationKind.Split:
                Split(shard.Id);
                break;
            default:
                throw new InvalidOperationException($"the model does not run {decision.Kind}");
        }
    }

    public void Prefer(ShardId id, StoreId store)
    {
        int at = Shards.FindIndex(s => s.Id == id);
        var shard = Shards[at];
        var chosen = shard.PeerOn(store)!.Value;
        Shards[at] = new ShardDescriptor(shard.Id, shard.Range, shard.Epoch, shard.ConfVersion + 1, shard.Peers.Where(p => p.PeerId != chosen.PeerId).Prepend(chosen).ToArray());
    }

    public void Split(ShardId id)
    {
        int at = Shards.FindIndex(s => s.Id == id);
        var shard = Shards[at];
        byte[] key = shard.Range.Start.Length == 0 ? [1] : [.. shard.Range.Start, 0x80];
        var left = new ShardDescriptor(shard.Id, new KeyRange(shard.Range.Start, key), shard.Epoch + 1, shard.ConfVersion, shard.Peers);
        var right = new ShardDescriptor(new ShardId(_nextShard++), new KeyRange(key, shard.Range.End), shard.Epoch + 1, shard.ConfVersion, shard.Peers.Select(p => p with { PeerId = _nextPeer++ }).ToArray());
        Shards[at] = left;
        Shards.Insert(at + 1, right);
    }
}
