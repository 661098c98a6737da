using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// Moves replicas with the controller's own <see cref="ReplicaMoveRunner"/> (learner on a store without a replica,
/// snapshot catch-up, promotion, leadership handed away, source removed and destroyed), one operation at a time, while
/// the simulation's stores crash, pause and get cut off. A move whose source store is down when it starts is a
/// re-replication, as the controller starts them for a dead store. The controller's logic itself dies now and then,
/// at a random moment of a step (between a call and its answer, between an effect and its record), and a new runner
/// resumes the operation from its row, as a new controller leader would.
/// </summary>
internal sealed class SimMover
{
    private const long OperationBudgetMs = 120_000;
    private readonly ReplicaSimulation _sim;
    private readonly SimReplicaAdmin _admin;
    private readonly ReplicaMoveOptions _options = new()
    {
        // Short enough that a target down for a few seconds makes some moves roll back within a run.
        StepTimeout = TimeSpan.FromSeconds(6),
        TransferTimeout = TimeSpan.FromSeconds(3),
    };

    public SimMover(ReplicaSimulation sim)
    {
        _sim = sim;
        Rows = new SimOperationRows(sim);
        _admin = new SimReplicaAdmin(sim);
    }

    public SimOperationRows Rows { get; }

    public SimReplicaAdmin Admin => _admin;

    /// <summary>Operations started, and of those: re-replications, and ones that ended with the target a voter.</summary>
    public int Started { get; private set; }

    public int ReReplications { get; private set; }

    public int Completed { get; private set; }

    /// <summary>Operations that rolled back (the shard's replicas unchanged at the end).</summary>
    public int RolledBack { get; private set; }

    /// <summary>Times the controller's logic died mid-operation and a new runner took over.</summary>
    public int ControllerCrashes { get; private set; }

    public bool Finished { get; private set; } = true;

    /// <summary>Moves until <paramref name="count"/> have started and finished, or time runs out for starting more.</summary>
    public async Task RunAsync(int count, long untilMs)
    {
        Finished = false;
        while (Started < count && _sim.Now < untilMs)
        {
            await _sim.Delay(100 + _sim.Random.Next(_sim.Options.MeanSplitIntervalMs / 2));
            if (await StartAsync() is not { } operation)
            {
                continue;
            }

            var before = _sim.Map.First(s => s.Id == operation.Shard);
            if (!await DriveAsync(operation.Id))
            {
                break;
            }

            var after = _sim.Map.First(s => s.Id == operation.Shard);
            bool moved = after.PeerOn(operation.To!.Value) is { Role: PeerRole.Voter } && after.PeerOn(operation.From!.Value) is null;
            if (moved)
            {
                Completed++;
            }
            else if (after.Replicas.Order().SequenceEqual(before.Replicas.Order()))
            {
                RolledBack++;
            }
            else
            {
                _sim.Violation($"operation {operation.Id} ({operation.Kind} of shard {operation.Shard} from store {operation.From} to {operation.To}) ended with {after}, neither moved nor rolled back from {before}");
            }

            _sim.Trace($"operation {operation.Id} {(moved ? "moved" : "rolled back")}: {after}");
        }

        Finished = true;
    }

    /// <summary>Records a move of a random voter of a random shard to a store without a replica of it.</summary>
    private async Task<OperationRecord?> StartAsync()
    {
        // A store that is down is what the controller re-replicates away from: half the time, one of its shards.
        var down = _sim.Stores.Where(s => !_sim.Node(s).IsUp).ToArray();
        var onDown = _sim.Map.Where(s => down.Any(s.HasReplicaOn)).ToArray();
        var shard = onDown.Length > 0 && _sim.Random.Next(2) == 0 ? onDown[_sim.Random.Next(onDown.Length)] : _sim.Map[_sim.Random.Next(_sim.Map.Count)];
        var voters = shard.Peers.Where(p => p.Role == PeerRole.Voter).ToArray();
        if (onDown.Contains(shard))
        {
            voters = voters.Where(p => !_sim.Node(p.Store).IsUp).ToArray();
        }

        var targets = _sim.Stores.Where(s => !shard.HasReplicaOn(s)).OrderBy(s => s.Value).ToArray();
        if (targets.Length == 0 || voters.Length == 0)
        {
            return null;
        }

        var source = voters[_sim.Random.Next(voters.Length)];
        var target = targets[_sim.Random.Next(targets.Length)];
        var kind = _sim.Node(source.Store).IsUp ? OperationKind.MoveReplica : OperationKind.ReReplicate;
        long now = _admin.WallClockMs;
        try
        {
            var record = await Rows.CreateOperationAsync(
                id => new OperationRecord(id, kind, shard.Id, 0, source.Store, target, 0, now, now, ReplicaMoveRunner.SourcePeerArgument(source.PeerId)),
                CancellationToken.None);
            Started++;
            ReReplications += kind == OperationKind.ReReplicate ? 1 : 0;
            _sim.Trace($"operation {record.Id}: {kind} of peer {source.PeerId} of shard {shard.Id} from store {source.Store} to store {target}");
            return record;
        }
        catch (TimeoutException)
        {
            // The row may or may not exist: whatever was recorded is found and finished before anything new starts.
            return await RecordedAsync();
        }
    }

    private async Task<OperationRecord?> RecordedAsync()
    {
        while (true)
        {
            try
            {
                var recorded = (await Rows.ListOperationsAsync(CancellationToken.None)).FirstOrDefault();
                if (recorded is not null)
                {
                    Started++;
                    ReReplications += recorded.Kind == OperationKind.ReReplicate ? 1 : 0;
                    _sim.Trace($"operation {recorded.Id} found recorded after a lost answer: {recorded.Kind} of shard {recorded.Shard} from store {recorded.From} to store {recorded.To}");
                }

                return recorded;
            }
            catch (TimeoutException)
            {
                await _sim.Delay(100);
            }
        }
    }

    /// <summary>Runs the operation to its end through controller crashes; false (a violation) if it does not end in time.</summary>
    private async Task<bool> DriveAsync(long id)
    {
        long deadline = _sim.Now + OperationBudgetMs;
        var life = new CancellationTokenSource();
        var runner = new ReplicaMoveRunner(Rows, _admin, _options);
        string? lastWait = null;
        while (_sim.Now < deadline)
        {
            if (_sim.Random.Next(8) == 0)
            {
                // This controller dies somewhere inside its next run: after a call went out, before its record, ...
                var dying = life;
                _sim.Schedule(_sim.Random.Next(200), dying.Cancel);
            }

            try
            {
                var progress = await runner.RunAsync(id, life.Token);
                if (progress.Finished)
                {
                    return true;
                }

                lastWait = progress.Waiting ?? lastWait;
            }
            catch (OperationCanceledException) when (life.IsCancellationRequested)
            {
                ControllerCrashes++;
                await _sim.Delay(200 + _sim.Random.Next(800));
                life = new CancellationTokenSource();
                runner = new ReplicaMoveRunner(Rows, _admin, _options);
                continue;
            }
            catch (TimeoutException)
            {
                // The controller group did not answer: the next round tries again, as the operation loop does.
            }

            if (life.IsCancellationRequested)
            {
                ControllerCrashes++;
                life = new CancellationTokenSource();
                runner = new ReplicaMoveRunner(Rows, _admin, _options);
            }

            await _sim.Delay(100 + _sim.Random.Next(200));
        }

        _sim.Violation($"operation {id} did not finish within {OperationBudgetMs} ms; last waiting on: {lastWait}");
        return false;
    }
}
