using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands;
using NoKv.Replica.Core;
using NoKv.Replica.Layout;
using NoKv.Replica.StateMachine;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// Merges neighbouring shards of the simulated store the way the controller's merge operation does (the simulation's shards
/// all live on the bootstrap stores until replicas move, which happens after the merges, so they are co-located): the source prepares, the merger waits until every replica of
/// the source applied the prepare, then the target commits (or, for one merge in three, the merger rolls the prepare
/// back instead, as the controller does when a commit cannot be made). Each proposal is retried through leader changes,
/// crashes and lost answers, each retry preceded by a look at the committed state. The map changes only once the
/// commit is seen committed.
/// </summary>
internal sealed class SimMerger
{
    private const long StepBudgetMs = 60_000;
    private readonly ReplicaSimulation _sim;
    private readonly SimProposer _proposer;
    private int _prepares;

    public SimMerger(ReplicaSimulation sim)
    {
        _sim = sim;
        _proposer = new SimProposer(sim);
    }

    public int Merges { get; private set; }

    public int Rollbacks { get; private set; }

    /// <summary>Merges (and rollbacks) until <paramref name="count"/> merges are done or time runs out.</summary>
    public async Task RunAsync(int count, long untilMs)
    {
        while (_sim.Now < untilMs && Merges < count)
        {
            await _sim.Delay(_sim.Options.MeanSplitIntervalMs / 2 + _sim.Random.Next(_sim.Options.MeanSplitIntervalMs));
            var map = _sim.Map;
            if (map.Count < 2)
            {
                return;
            }

            int at = _sim.Random.Next(map.Count - 1);
            bool leftIntoRight = _sim.Random.Next(2) == 0;
            var source = leftIntoRight ? map[at] : map[at + 1];
            var target = leftIntoRight ? map[at + 1] : map[at];
            // The first of every three prepares is rolled back: drawn at random, a seed could roll back every one and
            // merge nothing, or never roll one back.
            bool rollBack = ++_prepares % 3 == 1;
            if (!await MergeAsync(source, target, rollBack))
            {
                return;
            }
        }
    }

    private async Task<bool> MergeAsync(ShardDescriptor source, ShardDescriptor target, bool rollBack)
    {
        if (await PrepareAsync(source, target) is not { } prepared)
        {
            return false;
        }

        // As the controller does: every replica of the source must hold its final rows before the commit, so no target
        // replica waits for a source replica that can no longer catch up (its peers are gone once their targets commit).
        long deadline = _sim.Now + StepBudgetMs;
        while (!source.Replicas.All(s => _sim.Node(s).CoreOf(source.Id)?.Merging == prepared))
        {
            if (_sim.Now > deadline)
            {
                _sim.Violation($"the prepare of shard {source.Id} did not reach every store within {StepBudgetMs} ms");
                return false;
            }

            await _sim.Delay(50);
        }

        _sim.Trace($"merge {source} into {target}: prepared {prepared}, {(rollBack ? "rolling back" : "committing")}");
        if (rollBack)
        {
            return await RollbackAsync(source, prepared);
        }

        var command = new CommitMergeCommand(target.Epoch, target.ConfVersion, prepared.PrepareIndex, prepared.PrepareTerm, source);
        var merged = ShardStateMachine.Merged(target, command);
        bool IsMerged() => _sim.Stores.Any(s => _sim.Node(s).CoreOf(target.Id) is { } core && core.Descriptor.Epoch == merged.Epoch);
        bool committed = await _proposer.RunAsync(
            target.Id,
            StepBudgetMs,
            $"merge of shard {source.Id} into {target.Id}",
            IsMerged,
            core => core.CommitMergeAsync(target.Epoch, target.ConfVersion, source, prepared.PrepareIndex, prepared.PrepareTerm),
            (core, response) =>
            {
                if (response.Code == NoKvErrorCode.Ok && core.Descriptor.ToString() != merged.ToString())
                {
                    _sim.Violation($"merge of shard {source.Id} into {target.Id} acknowledged, but the leader holds {core.Descriptor}, not {merged}");
                }

                if (response.Code is NoKvErrorCode.InvalidRange or NoKvErrorCode.WrongShard && !IsMerged())
                {
                    _sim.Violation($"commit of the merge of shard {source.Id} into {target.Id} refused: {response.Code} {response.Detail}");
                    return false;
                }

                return response.Code == NoKvErrorCode.Ok ? true : null;
            });
        if (committed)
        {
            _sim.CommitMerge(source, merged);
            Merges++;
        }

        return committed;
    }

    private async Task<MergeState?> PrepareAsync(ShardDescriptor source, ShardDescriptor target)
    {
        // Already prepared? Any replica that applied it shows the merge state (nothing else prepares this shard).
        MergeState? prepared = null;
        bool Prepared()
        {
            foreach (var store in _sim.Stores)
            {
                if (_sim.Node(store).CoreOf(source.Id)?.Merging is { } state)
                {
                    prepared = state;
                    return true;
                }
            }

            return false;
        }

        bool done = await _proposer.RunAsync(
            source.Id,
            StepBudgetMs,
            $"prepare of shard {source.Id}",
            Prepared,
            core => core.PrepareMergeAsync(source.Epoch, source.ConfVersion, target.Id),
            (_, response) =>
            {
                if (response.Code == NoKvErrorCode.InvalidRange)
                {
                    _sim.Violation($"prepare of shard {source.Id} refused: {response.Detail}");
                    return false;
                }

                return null; // Ok: the next look sees it applied
            });
        if (done && prepared is { } state && state.Target != target.Id)
        {
            _sim.Violation($"shard {source.Id} is {state}, not merging into {target.Id}");
            return null;
        }

        return done ? prepared : null;
    }

    private Task<bool> RollbackAsync(ShardDescriptor source, MergeState prepared) =>
        _proposer.RunAsync(
            source.Id,
            StepBudgetMs,
            $"rollback of shard {source.Id}",
            () =>
            {
                // Rolled back once every replica serves again (the map is unchanged: the source keeps its epoch).
                bool done = source.Replicas.All(s => _sim.Node(s).CoreOf(source.Id) is { } core && core.Merging is null);
                Rollbacks += done ? 1 : 0;
                return done;
            },
            core => core.Merging is null
                ? Task.FromResult(new WriteResponse { Code = NoKvErrorCode.NotLeader })
                : core.RollbackMergeAsync(source.Epoch, prepared.PrepareIndex),
            (core, response) =>
            {
                if (response.Code == NoKvErrorCode.InvalidRange && core.Merging is not null)
                {
                    _sim.Violation($"rollback of shard {source.Id} refused: {response.Detail}");
                    return false;
                }

                return null;
            });
}
