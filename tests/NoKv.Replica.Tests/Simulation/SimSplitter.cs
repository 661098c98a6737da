using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands;
using NoKv.Replica.StateMachine;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// Splits shards of the simulated store the way the controller's split operation does: ids allocated up front, the
/// split proposed to whichever replica leads, retried through leader changes, crashes and lost answers, and each
/// retry preceded by a look at the committed descriptor (an applied split is never proposed again; a duplicate would
/// be refused by its epoch anyway). The map changes only once the split is seen committed.
/// </summary>
internal sealed class SimSplitter
{
    private const long SplitBudgetMs = 60_000;
    private readonly ReplicaSimulation _sim;
    private long _nextShard = 100;
    private ulong _nextPeer = 100_000;
    private StoreId _leaderGuess = new(1);

    public SimSplitter(ReplicaSimulation sim) => _sim = sim;

    public bool Finished { get; private set; } = true;

    public int Proposals { get; private set; }

    public async Task RunAsync(long untilMs)
    {
        Finished = false;
        int done = 0;
        while (_sim.Now < untilMs && done < _sim.Options.Splits)
        {
            await _sim.Delay(_sim.Options.MeanSplitIntervalMs / 2 + _sim.Random.Next(_sim.Options.MeanSplitIntervalMs));
            if (PickSplit() is not { } pick)
            {
                continue;
            }

            await SplitAsync(pick.Shard, pick.Key);
            done++;
        }

        Finished = true;
    }

    /// <summary>A shard with at least two of the clients' keys and the middle one of them (never its start key).</summary>
    private (ShardDescriptor Shard, byte[] Key)? PickSplit()
    {
        var keys = _sim.ClientKeys.Select(ReplicaSimulation.Bytes).OrderBy(k => k, ByteOrder.Instance).ToList();
        var candidates = _sim.Map
            .Select(s => (Shard: s, Keys: keys.Where(k => s.Range.Contains(k) && !k.AsSpan().SequenceEqual(s.Range.Start)).ToList()))
            .Where(c => c.Keys.Count >= 2)
            .ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        var chosen = candidates[_sim.Random.Next(candidates.Count)];
        return (chosen.Shard, chosen.Keys[chosen.Keys.Count / 2]);
    }

    private async Task SplitAsync(ShardDescriptor shard, byte[] key)
    {
        var newShard = new ShardId(_nextShard++);
        var peers = shard.Peers.Select(p => new PeerDescriptor(_nextPeer++, p.Store, p.Role)).ToArray();
        var command = new SplitCommand(shard.Epoch, key, newShard, peers.Select(p => new SplitPeer(p.Store, p.PeerId)).ToArray());
        long deadline = _sim.Now + SplitBudgetMs;
        while (_sim.Now < deadline)
        {
            // Already committed? Any replica that applied it shows the next epoch (nothing else changes the range here).
            if (Committed(shard))
            {
                var (left, right) = ShardStateMachine.Halves(shard, command);
                _sim.CommitSplit(left, right);
                return;
            }

            var core = _sim.Node(_leaderGuess).CoreOf(shard.Id);
            if (core is null)
            {
                await Backoff(null);
                continue;
            }

            Proposals++;
            var response = await core.SplitAsync(shard.Epoch, key, newShard, peers);
            if (response.Code == NoKvErrorCode.Ok)
            {
                var (left, right) = ShardStateMachine.Halves(shard, command);
                if (core.Descriptor.ToString() != left.ToString())
                {
                    _sim.Violation($"split of shard {shard.Id} acknowledged, but the leader holds {core.Descriptor}, not {left}");
                }

                _sim.CommitSplit(left, right);
                return;
            }

            if (response.Code == NoKvErrorCode.InvalidRange)
            {
                _sim.Violation($"split of shard {shard.Id} at {KeyFormatter.Format(key)} refused: {response.Detail}");
                return;
            }

            await Backoff(response.Code == NoKvErrorCode.NotLeader ? response.LeaderHint : null);
        }

        _sim.Violation($"split of shard {shard.Id} at {KeyFormatter.Format(key)} did not complete within {SplitBudgetMs} ms");
    }

    private bool Committed(ShardDescriptor shard) =>
        _sim.Stores.Any(s => _sim.Node(s).CoreOf(shard.Id) is { } core && core.Descriptor.Epoch > shard.Epoch);

    private async Task Backoff(StoreId? hint)
    {
        if (hint is { } leader)
        {
            _leaderGuess = leader;
            await _sim.Delay(1);
            return;
        }

        _leaderGuess = new StoreId(1 + _sim.Random.Next(_sim.Options.Nodes));
        await _sim.Delay(20 + _sim.Random.Next(80));
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
