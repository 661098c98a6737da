using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The controller's operation logic in the simulation: the production <see cref="ReplicaMoveRunner"/>,
/// <see cref="MergeRunner"/> and <see cref="SplitOperation"/> over the simulated stores (<see cref="SimReplicaAdmin"/>) and rows
/// (<see cref="SimOperationRows"/>), driven round by round as the operation loop drives them, one operation (with the
/// moves a merge starts to co-locate its shards) at a time. Moves take a random voter of a random shard to a store
/// without a replica of it; a move whose source store is down when it starts is a re-replication, as the controller
/// starts them for a dead store. Merges join random neighbours wherever their replicas are. Splits cut a random shard
/// at a client key inside it, or by size (the key a replica names as halving its rows). The controller's logic
/// itself dies now and then, at a random moment of a step (between a call and its answer, between an effect and its
/// record), and new runners resume from the rows, as a new controller leader would.
/// </summary>
internal sealed class SimController
{
    private const long OperationBudgetMs = 120_000;

    // The split's propose step tries for four times this before it gives up for the round.
    private static readonly TimeSpan SplitOperationTimeout = TimeSpan.FromSeconds(5);
    private readonly ReplicaSimulation _sim;
    private readonly ReplicaMoveOptions _options = new()
    {
        // Short enough that a target down for a few seconds makes some moves roll back within a run.
        StepTimeout = TimeSpan.FromSeconds(6),
        TransferTimeout = TimeSpan.FromSeconds(3),
    };

    private CancellationTokenSource _life = new();
    private ReplicaMoveRunner _moves;
    private MergeRunner _merges;
    private SplitOperation _splits;

    public SimController(ReplicaSimulation sim)
    {
        _sim = sim;
        Rows = new SimOperationRows(sim);
        Admin = new SimReplicaAdmin(sim);
        _moves = new ReplicaMoveRunner(Rows, Admin, _options);
        _merges = new MergeRunner(Rows, Admin, _options);
        _splits = new SplitOperation(Rows, Admin, SplitOperationTimeout);
    }

    public SimOperationRows Rows { get; }

    public SimReplicaAdmin Admin { get; }

    /// <summary>Moves started, and of those: re-replications, ones that ended with the target a voter, ones rolled back.</summary>
    public int MovesStarted { get; private set; }

    public int ReReplications { get; private set; }

    public int Moved { get; private set; }

    public int MovesRolledBack { get; private set; }

    /// <summary>Merges started, and of those: ones committed (the source gone from the map).</summary>
    public int MergesStarted { get; private set; }

    public int Merged { get; private set; }

    /// <summary>Splits started (an operation row recorded), and of those: ones that ended with both halves in the map.</summary>
    public int SplitsStarted { get; private set; }

    public int Split { get; private set; }

    /// <summary>Times the controller's logic died mid-operation and new runners took over.</summary>
    public int ControllerCrashes { get; private set; }

    public bool Finished { get; private set; } = true;

    /// <summary>What each rolled-back move reported when it turned to its rollback.</summary>
    public List<string> RollbackReasons { get; } = new();

    /// <summary>Moves, merges and splits, mixed, until as many as asked have started and finished, or time runs out for starting more.</summary>
    public async Task RunAsync(int moves, int merges, int splits, long untilMs)
    {
        Finished = false;
        int attempts = 0;
        while (_sim.Now < untilMs && (MovesStarted < moves || MergesStarted < merges || SplitsStarted < splits))
        {
            await _sim.Delay(100 + _sim.Random.Next(_sim.Options.MeanSplitIntervalMs / 2));

            // Splits come first more often, so later merges and moves find several shards to work on.
            var kinds = new List<OperationKind>();
            kinds.AddRange(Enumerable.Repeat(OperationKind.Split, SplitsStarted < splits ? 2 : 0));
            kinds.AddRange(Enumerable.Repeat(OperationKind.Merge, MergesStarted < merges && _sim.Map.Count > 1 ? 1 : 0));
            kinds.AddRange(Enumerable.Repeat(OperationKind.MoveReplica, MovesStarted < moves ? 1 : 0));
            if (kinds.Count == 0 || ++attempts > 10 * (moves + merges + splits))
            {
                break;
            }

            var kind = kinds[_sim.Random.Next(kinds.Count)];
            bool ok = kind switch
            {
                OperationKind.Split => await SplitOnceAsync(),
                OperationKind.Merge => await MergeOnceAsync(),
                _ => await MoveOnceAsync(),
            };
            if (!ok)
            {
                break;
            }
        }

        Finished = true;
    }

    private async Task<bool> SplitOnceAsync()
    {
        // A client key strictly inside a shard that holds at least two of them, or (one time in four) no key: the
        // split operation then asks a replica for the key that halves its rows, and refuses if there is none.
        var keys = _sim.ClientKeys.Select(ReplicaSimulation.Bytes).ToList();
        var candidates = _sim.Map
            .Select(s => (Shard: s, Keys: keys.Where(k => s.Range.Contains(k) && !k.AsSpan().SequenceEqual(s.Range.Start)).OrderBy(k => Convert.ToHexString(k), StringComparer.Ordinal).ToList()))
            .Where(c => c.Keys.Count >= 2)
            .ToList();
        if (candidates.Count == 0)
        {
            return true;
        }

        var (shard, inside) = candidates[_sim.Random.Next(candidates.Count)];
        byte[]? key = _sim.Random.Next(4) == 0 ? null : inside[_sim.Random.Next(inside.Count)];
        _sim.Trace($"split of {shard} at {(key is null ? "the middle by size" : KeyFormatter.Format(key))}");
        try
        {
            await _splits.StartAsync(shard.Id, key, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // The row may or may not exist: driving finds out.
        }
        catch (ArgumentException e)
        {
            // Refused before anything was recorded (no key halves the rows yet, for one).
            _sim.Trace($"split of shard {shard.Id} refused: {e.Message}");
            return true;
        }

        if (!Recorded($"split of shard {shard.Id}"))
        {
            return true;
        }

        SplitsStarted++;
        if (!await DriveAsync())
        {
            return false;
        }

        var after = _sim.Map.First(s => s.Id == shard.Id);
        if (after.Epoch == shard.Epoch + 1 && _sim.Map.FirstOrDefault(s => s.Range.Start.AsSpan().SequenceEqual(after.Range.End ?? [])) is { } right
            && right.Range.End.AsSpan().SequenceEqual(shard.Range.End) && (key is null || after.Range.End.AsSpan().SequenceEqual(key)))
        {
            Split++;
            _sim.Trace($"split done: {after} and {right}");
        }
        else if (after.ToString() != shard.ToString())
        {
            _sim.Violation($"split of {shard} at {(key is null ? "its middle" : KeyFormatter.Format(key))} ended with {after}, neither split nor unchanged");
        }

        return true;
    }

    private async Task<bool> MoveOnceAsync()
    {
        // A store that is down is what the controller re-replicates away from: half the time, one of its shards.
        var down = _sim.Stores.Where(s => !_sim.Node(s).IsUp).ToArray();
        var onDown = _sim.Map.Where(s => down.Any(s.HasReplicaOn)).ToArray();
        var shard = onDown.Length > 0 && _sim.Random.Next(2) == 0 ? onDown[_sim.Random.Next(onDown.Length)] : _sim.Map[_sim.Random.Next(_sim.Map.Count)];
        var voters = shard.Peers.Where(p => p.Role == PeerRole.Voter && (!onDown.Contains(shard) || !_sim.Node(p.Store).IsUp)).ToArray();
        var targets = _sim.Stores.Where(s => !shard.HasReplicaOn(s)).OrderBy(s => s.Value).ToArray();
        if (targets.Length == 0 || voters.Length == 0)
        {
            return true;
        }

        var source = voters[_sim.Random.Next(voters.Length)];
        var target = targets[_sim.Random.Next(targets.Length)];
        var kind = _sim.Node(source.Store).IsUp ? OperationKind.MoveReplica : OperationKind.ReReplicate;
        long now = Admin.WallClockMs;
        MovesStarted++;
        ReReplications += kind == OperationKind.ReReplicate ? 1 : 0;
        _sim.Trace($"{kind} of peer {source.PeerId} of shard {shard.Id} from store {source.Store} to store {target}");
        try
        {
            await Rows.CreateOperationAsync(
                id => new OperationRecord(id, kind, shard.Id, 0, source.Store, target, 0, now, now, ReplicaMoveRunner.SourcePeerArgument(source.PeerId)),
                CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // The row may or may not exist: driving finds out (and finishes whatever was recorded).
        }

        if (!Recorded($"{kind} of shard {shard.Id}"))
        {
            MovesStarted--;
            ReReplications -= kind == OperationKind.ReReplicate ? 1 : 0;
            return true;
        }

        if (!await DriveAsync())
        {
            return false;
        }

        var after = _sim.Map.First(s => s.Id == shard.Id);
        if (after.PeerOn(target) is { Role: PeerRole.Voter } && after.PeerOn(source.Store) is null)
        {
            Moved++;
        }
        else if (after.Replicas.Order().SequenceEqual(shard.Replicas.Order()))
        {
            MovesRolledBack++;
        }
        else
        {
            _sim.Violation($"{kind} of shard {shard.Id} from store {source.Store} to {target} ended with {after}, neither moved nor rolled back from {shard}");
        }

        _sim.Trace($"move done: {after}");
        return true;
    }

    private async Task<bool> MergeOnceAsync()
    {
        var map = _sim.Map;
        if (map.Count < 2)
        {
            return true;
        }

        int at = _sim.Random.Next(map.Count - 1);
        bool leftIntoRight = _sim.Random.Next(2) == 0;
        var source = leftIntoRight ? map[at] : map[at + 1];
        var target = leftIntoRight ? map[at + 1] : map[at];
        MergesStarted++;
        _sim.Trace($"merge of {source} into {target}");
        try
        {
            await _merges.StartAsync(source.Id, target.Id, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // As for a move: whatever was recorded is driven to its end.
        }

        if (!Recorded($"merge of shard {source.Id}"))
        {
            MergesStarted--;
            return true;
        }

        if (!await DriveAsync())
        {
            return false;
        }

        bool merged = _sim.Map.All(s => s.Id != source.Id);
        Merged += merged ? 1 : 0;
        if (merged && _sim.Map.First(s => s.Id == target.Id) is { } grown && !grown.Range.Contains(source.Range.Start))
        {
            _sim.Violation($"shard {source.Id} left the map but {grown} does not cover its range {source.Range}");
        }

        _sim.Trace($"merge {(merged ? "committed" : "ended without merging")}");
        return true;
    }

    /// <summary>
    /// Whether the operation's row exists after a start whose answer may have been lost (looked up in the rows directly:
    /// bookkeeping of the test, not a controller action). A start lost before its row was written started nothing.
    /// </summary>
    private bool Recorded(string what)
    {
        if (Rows.InProgress > 0)
        {
            return true;
        }

        _sim.Trace($"{what} was never recorded (the start's request was lost)");
        return false;
    }

    /// <summary>Runs every operation in progress round by round until none is left, through controller crashes; false (a violation) if they do not end in time.</summary>
    private async Task<bool> DriveAsync()
    {
        long deadline = _sim.Now + OperationBudgetMs;
        string? last = null;
        while (_sim.Now < deadline)
        {
            if (_sim.Random.Next(8) == 0)
            {
                // This controller dies somewhere inside its next round: after a call went out, before its record, ...
                var dying = _life;
                _sim.Schedule(_sim.Random.Next(200), dying.Cancel);
            }

            try
            {
                var operations = await Rows.ListOperationsAsync(_life.Token);
                if (operations.Count == 0)
                {
                    return true;
                }

                foreach (var operation in operations)
                {
                    if (operation.Kind == OperationKind.Split)
                    {
                        // As the controller grain resumes its splits each round: run to the end, or throw and retry next round.
                        var outcome = await _splits.RunAsync(operation, _life.Token);
                        _sim.Trace($"operation {operation.Id} (Split): {(outcome is null ? "ended without a split" : $"{outcome.Left} and {outcome.Right}")}");
                        continue;
                    }

                    var progress = operation.Kind == OperationKind.Merge
                        ? await _merges.RunAsync(operation.Id, _life.Token)
                        : await _moves.RunAsync(operation.Id, _life.Token);
                    if (progress.RollingBack is { } rollback)
                    {
                        _sim.Trace($"operation {operation.Id}: {rollback}");
                        RollbackReasons.Add(rollback);
                    }

                    if (progress.Waiting is { } waiting && $"operation {operation.Id} ({operation.Kind}): {waiting}" is var now && now != last)
                    {
                        _sim.Trace(now);
                        last = now;
                    }
                }
            }
            catch (OperationCanceledException) when (_life.IsCancellationRequested)
            {
                await RestartAsync();
                continue;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // As the operation loop does: an error ends this round, the next one tries again.
                last = $"{e.GetType().Name}: {e.Message}";
            }

            if (_life.IsCancellationRequested)
            {
                await RestartAsync();
            }

            await _sim.Delay(100 + _sim.Random.Next(200));
        }

        _sim.Violation($"operations did not finish within {OperationBudgetMs} ms; last: {last}");
        return false;
    }

    private async Task RestartAsync()
    {
        ControllerCrashes++;
        await _sim.Delay(200 + _sim.Random.Next(800));
        _life = new CancellationTokenSource();
        _moves = new ReplicaMoveRunner(Rows, Admin, _options);
        _merges = new MergeRunner(Rows, Admin, _options);
        _splits = new SplitOperation(Rows, Admin, SplitOperationTimeout);
    }
}
