using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The controller sizing its own group in the simulation (system shard 0 bootstrapped on three of six stores): the
/// production <see cref="OperationLoop"/> runs round after round against the real group, with the stores' held
/// replicas as heartbeats would report them, while the driver plays store liveness and the operator. Three phases:
/// <list type="number">
/// <item><b>Growth with a store killed.</b> Six stores up: the planner grows the group to five voters, one member at a
/// time. While a growth operation is in flight (at a step the seed picks, of the first or second growth) a store
/// holding a replica of the group (a voter, or the growth's target once it has one) is killed and kept down; the driver
/// marks it down after the store timeout. The group must end with five voters on the five live stores.</item>
/// <item><b>Orphan cleanup.</b> The killed store returns holding the peer the group removed (or the target replica a
/// rolled-back growth left), is marked up, and the loop's orphan cleanup must destroy it: no store may run a
/// controller replica the group's descriptor does not name.</item>
/// <item><b>Shrink.</b> Two stores are decommissioned, one of them holding a voter: fewer than five remain, so the group
/// goes back to three voters, the draining voter first, and both stores are drained and marked removed.</item>
/// </list>
/// Faults (crashes, isolations, pauses, lost messages) go on throughout, and the controller's logic is replaced by a
/// new loop and client one round in eight. Checked at each phase's end by the committed descriptor, and by the
/// simulation's final checks (every up store runs exactly the group's replicas, same applied index, same rows).
/// </summary>
internal sealed class SimControllerGrowth
{
    private const long StoreDownAfterMs = 3_000;
    private const long PhaseBudgetMs = 150_000;
    private readonly ReplicaSimulation _sim;
    private readonly ReplicaMoveOptions _options = new()
    {
        StepTimeout = TimeSpan.FromSeconds(6),
        TransferTimeout = TimeSpan.FromSeconds(3),
    };

    private ControllerGroupClient _group;
    private OperationLoop _loop;

    public SimControllerGrowth(ReplicaSimulation sim)
    {
        _sim = sim;
        Admin = new SimReplicaAdmin(sim);
        (_group, _loop) = NewController();
    }

    public SimReplicaAdmin Admin { get; }

    public bool Finished { get; private set; } = true;

    /// <summary>The store killed during growth (and returned later), once chosen.</summary>
    public StoreId? Killed { get; private set; }

    /// <summary>What the killed store held of the group when it died (for the summary).</summary>
    public string KilledHolding { get; private set; } = "nothing";

    /// <summary>The phases that ended as they must (growth, orphan cleanup, shrink).</summary>
    public int PhasesDone { get; private set; }

    /// <summary>Growth operations of the group seen in flight.</summary>
    public int GrowthsSeen { get; private set; }

    /// <summary>Controller peers destroyed as orphans by the loop.</summary>
    public int OrphansDestroyed { get; private set; }

    public int Replacements { get; private set; }

    public int LoopErrors { get; private set; }

    public async Task RunAsync()
    {
        Finished = false;
        try
        {
            await SeedAsync();
            if (await GrowWithKillAsync() && await CleanUpOrphanAsync() && await ShrinkAsync())
            {
                await CheckStillServesAsync();
            }
        }
        catch (Exception e)
        {
            _sim.Violation($"the controller's sizing of its group failed: {e}");
        }

        Finished = true;
    }

    private async Task<bool> GrowWithKillAsync()
    {
        // Which growth (the first or second) and at which recorded step the kill comes, and what it hits.
        int growthIndex = _sim.Random.Next(2);
        int atStep = _sim.Random.Next((int)MoveStep.PublishVoter + 1);
        bool aimAtTarget = _sim.Random.Next(2) == 0;
        long? killedAt = null;
        bool markedDown = false;
        long lastGrowth = -1;
        long deadline = _sim.Now + PhaseBudgetMs;
        while (true)
        {
            if (_sim.Now > deadline)
            {
                _sim.Violation($"the controller group did not grow to five voters within {PhaseBudgetMs} ms (store {Killed} killed)");
                return false;
            }

            await RoundAsync();
            var (descriptor, operations) = await LookAsync();
            if (operations?.FirstOrDefault(o => o.Shard == SystemShards.Controller && o.From is null) is { } growth && growth.Id != lastGrowth)
            {
                lastGrowth = growth.Id;
                GrowthsSeen++;
            }

            if (killedAt is null && descriptor is not null && operations is not null
                && operations.FirstOrDefault(o => o.Shard == SystemShards.Controller && o.From is null) is { } current
                && (GrowthsSeen > growthIndex + 1 || (GrowthsSeen == growthIndex + 1 && current.Step >= atStep)))
            {
                var victim = aimAtTarget && current.To is { } target && current.Step >= (int)MoveStep.AddLearner
                    ? target
                    : descriptor.Replicas[_sim.Random.Next(descriptor.Replicas.Length)];
                Killed = victim;
                KilledHolding = descriptor.PeerOn(victim) is { } peer ? $"peer {peer.PeerId} ({peer.Role})" : $"growth {current.Id}'s target at step {(MoveStep)current.Step}";
                _sim.Trace($"growth: killing store {victim} ({KilledHolding}) during growth {current.Id} at step {(MoveStep)current.Step}");
                _sim.KillForGood(victim);
                killedAt = _sim.Now;
            }

            if (killedAt is { } at && !markedDown && _sim.Now - at >= StoreDownAfterMs)
            {
                markedDown = await MarkAsync(Killed!.Value, StoreState.Down);
            }

            if (markedDown && descriptor is not null && operations is { Count: 0 }
                && descriptor.Peers.Length == 5 && descriptor.Peers.All(p => p.Role == PeerRole.Voter && p.Store != Killed))
            {
                _sim.Trace($"growth: five voters on live stores: {descriptor}");
                _sim.ReplaceMap([descriptor]);
                PhasesDone++;
                return true;
            }

            if (killedAt is null && descriptor is { Peers.Length: 5 } && operations is { Count: 0 })
            {
                // Grown before the chosen moment was seen (a round can run several steps): kill a voter now, so the phase
                // still tests a loss, which the next rounds repair onto the sixth store.
                var victim = descriptor.Replicas[_sim.Random.Next(descriptor.Replicas.Length)];
                Killed = victim;
                KilledHolding = $"peer {descriptor.PeerOn(victim)!.Value.PeerId} (voter, after growth)";
                _sim.Trace($"growth: killing store {victim} ({KilledHolding}) after the growth");
                _sim.KillForGood(victim);
                killedAt = _sim.Now;
            }

            await _sim.Delay(200 + _sim.Random.Next(200));
        }
    }

    private async Task<bool> CleanUpOrphanAsync()
    {
        var returning = Killed!.Value;
        _sim.Revive(returning);
        bool markedUp = false;
        long deadline = _sim.Now + PhaseBudgetMs;
        while (true)
        {
            if (_sim.Now > deadline)
            {
                _sim.Violation($"store {returning} still holds a controller replica the group removed {PhaseBudgetMs} ms after it returned: {string.Join(", ", _sim.HeldReplicas(returning).Where(r => r.Shard == SystemShards.Controller))}");
                return false;
            }

            if (!markedUp && _sim.IsUp(returning))
            {
                markedUp = await MarkAsync(returning, StoreState.Up);
            }

            await RoundAsync();
            var (descriptor, operations) = await LookAsync();
            if (markedUp && descriptor is not null && operations is { Count: 0 } && descriptor.Replicas.Length == 5
                && _sim.IsUp(returning)
                && _sim.HeldReplicas(returning).All(r => r.Shard != SystemShards.Controller || descriptor.Peer(r.PeerId) is not null))
            {
                _sim.Trace($"orphans: store {returning} holds no removed controller peer ({OrphansDestroyed} destroyed)");
                _sim.ReplaceMap([descriptor]);
                PhasesDone++;
                return true;
            }

            await _sim.Delay(200 + _sim.Random.Next(200));
        }
    }

    private async Task<bool> ShrinkAsync()
    {
        // Two stores decommissioned: one holding a voter, one other (which may hold one too).
        var (descriptor, _) = await LookAsync();
        while (descriptor is null)
        {
            await _sim.Delay(300);
            (descriptor, _) = await LookAsync();
        }

        var voter = descriptor.Replicas[_sim.Random.Next(descriptor.Replicas.Length)];
        var others = _sim.Stores.Where(s => s != voter).ToArray();
        var other = others[_sim.Random.Next(others.Length)];
        var draining = new[] { voter, other };
        _sim.Trace($"shrink: decommissioning stores {voter} and {other}");
        var marked = new HashSet<StoreId>();
        long deadline = _sim.Now + PhaseBudgetMs;
        while (true)
        {
            if (_sim.Now > deadline)
            {
                _sim.Violation($"the controller group did not shrink to three voters off stores {voter} and {other} within {PhaseBudgetMs} ms: {descriptor}");
                return false;
            }

            foreach (var store in draining.Where(s => !marked.Contains(s)))
            {
                if (await MarkAsync(store, StoreState.Decommissioning))
                {
                    marked.Add(store);
                }
            }

            await RoundAsync();
            (descriptor, var operations) = await LookAsync();
            if (marked.Count == 2 && descriptor is not null && operations is { Count: 0 }
                && descriptor.Peers.Length == 3 && descriptor.Peers.All(p => p.Role == PeerRole.Voter && !draining.Contains(p.Store))
                && await StateAsync(voter) == StoreState.Removed && await StateAsync(other) == StoreState.Removed)
            {
                _sim.Trace($"shrink: three voters: {descriptor}; stores {voter} and {other} removed");
                _sim.ReplaceMap([descriptor]);
                PhasesDone++;
                return true;
            }

            await _sim.Delay(200 + _sim.Random.Next(200));
        }
    }

    /// <summary>The group's committed descriptor and the operations in progress, each null when not readable now.</summary>
    private async Task<(ShardDescriptor? Descriptor, IReadOnlyList<OperationRecord>? Operations)> LookAsync()
    {
        try
        {
            var descriptor = await _loop.ControllerDescriptorAsync();
            var operations = (await ControllerSnapshot.ReadAsync(_group)).Operations;
            return (descriptor, operations);
        }
        catch (NoKvTimeoutException)
        {
            return (null, null);
        }
    }

    private async Task<StoreState?> StateAsync(StoreId store)
    {
        try
        {
            return await _group.ReadAsync(ControllerRows.Store(store)) is { } row ? StoreRecord.Decode(row).State : null;
        }
        catch (NoKvTimeoutException)
        {
            return null;
        }
    }

    /// <summary>The map row (no user shard) and one up row per store, each only if absent.</summary>
    private async Task SeedAsync()
    {
        while (true)
        {
            try
            {
                var placeholder = new ShardDescriptor(new ShardId(1), KeyRange.All, 1, 1, []);
                await _group.CompareAndSwapAsync(ControllerRows.Map, null, new ControllerMap(1, 1_000_000, 1UL << 20, 1, [placeholder]).Encode());
                foreach (var store in _sim.Stores)
                {
                    await _group.CompareAndSwapAsync(ControllerRows.Store(store), null, new StoreRecord(store, StoreState.Up, 0, 0, 0, $"sim-store-{store}").Encode());
                }

                return;
            }
            catch (NoKvTimeoutException)
            {
                // No quorum for now: the swaps only apply if absent, so trying again is harmless.
            }
        }
    }

    /// <summary>Store liveness or the operator: one swap of the store's row to <paramref name="state"/> (true once it holds).</summary>
    private async Task<bool> MarkAsync(StoreId store, StoreState state)
    {
        try
        {
            var row = await _group.ReadAsync(ControllerRows.Store(store));
            if (row is null)
            {
                return false;
            }

            var record = StoreRecord.Decode(row);
            if (record.State == state || (state == StoreState.Decommissioning && record.State == StoreState.Removed))
            {
                return true;
            }

            return await _group.CompareAndSwapAsync(ControllerRows.Store(store), row, (record with { State = state, StateSinceUnixMs = Admin.WallClockMs }).Encode());
        }
        catch (NoKvTimeoutException)
        {
            return false;
        }
    }

    /// <summary>One round of the loop with the held replicas of the stores that are up, the logic replaced one round in eight.</summary>
    private async Task RoundAsync()
    {
        if (_sim.Random.Next(8) == 0)
        {
            Replacements++;
            (_group, _loop) = NewController();
        }

        try
        {
            var (_, errors) = await _loop.RunOnceAsync(held: _sim.HeldReplicas());
            OrphansDestroyed += _loop.LastDestroyed.Count(o => o.Shard == SystemShards.Controller);
            foreach (var orphan in _loop.LastDestroyed)
            {
                _sim.Trace($"orphans: destroyed {orphan}");
            }

            LoopErrors += errors.Count;
            foreach (var error in errors)
            {
                _sim.Trace($"controller loop: {error}");
            }
        }
        catch (NoKvTimeoutException e)
        {
            LoopErrors++;
            _sim.Trace($"controller loop: {e.Message}");
        }
    }

    /// <summary>A new oracle and a new client, knowing only the bootstrap stores, still get served.</summary>
    private async Task CheckStillServesAsync()
    {
        var (group, _) = NewController();
        var oracle = new TimestampOracle(group);
        long deadline = _sim.Now + PhaseBudgetMs;
        while (true)
        {
            try
            {
                var batch = await oracle.GetTimestampsAsync(2);
                var row = await group.ReadAsync(ControllerRows.Timestamps);
                if (row is null || TimestampOracleRow.Decode(row) < batch.Last)
                {
                    _sim.Violation($"timestamps {batch} handed out above the persisted mark after the resizes");
                }

                return;
            }
            catch (NoKvTimeoutException) when (_sim.Now < deadline)
            {
                await _sim.Delay(500);
            }
            catch (NoKvTimeoutException e)
            {
                _sim.Violation($"the oracle did not serve after the resizes: {e.Message}");
                return;
            }
        }
    }

    private (ControllerGroupClient Group, OperationLoop Loop) NewController()
    {
        var group = new ControllerGroupClient(new SimControllerTransport(_sim, 0), new ControllerMembership(1, _sim.Shard.Replicas), _sim.NextSeed(), Timeout.InfiniteTimeSpan, TimeSpan.FromSeconds(15));
        return (group, new OperationLoop(group, Admin, _options, 4));
    }
}
