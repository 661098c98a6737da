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
    private readonly SimProposer _proposer;

    public SimSplitter(ReplicaSimulation sim)
    {
        _sim = sim;
        _proposer = new SimProposer(sim);
    }

    public bool Finished { get; private set; } = true;

    public int Proposals => _proposer.Proposals;

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
        var (left, right) = ShardStateMachine.Halves(shard, command);

        // Already committed? Any replica that applied it shows the next epoch (nothing else changes the range here).
        bool split = await _proposer.RunAsync(
            shard.Id,
            SplitBudgetMs,
            $"split of shard {shard.Id} at {KeyFormatter.Format(key)}",
            () => _sim.Stores.Any(s => _sim.Node(s).CoreOf(shard.Id) is { } core && core.Descriptor.Epoch > shard.Epoch),
            core => core.SplitAsync(shard.Epoch, key, newShard, peers),
            (core, response) =>
            {
                if (response.Code == NoKvErrorCode.Ok && core.Descriptor.ToString() != left.ToString())
                {
                    _sim.Violation($"split of shard {shard.Id} acknowledged, but the leader holds {core.Descriptor}, not {left}");
                }

                if (response.Code == NoKvErrorCode.InvalidRange)
                {
                    _sim.Violation($"split of shard {shard.Id} at {KeyFormatter.Format(key)} refused: {response.Detail}");
                    return false;
                }

                return response.Code == NoKvErrorCode.Ok ? true : null;
            });
        if (split)
        {
            _sim.CommitSplit(left, right);
        }
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
