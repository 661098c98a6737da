using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The controller repairing its own group in the simulation (system shard 0 on three of five stores): the production
/// <see cref="OperationLoop"/> runs round after round against the real controller group (its rows read and swapped
/// through a <see cref="ControllerGroupClient"/>, its replica calls through <see cref="SimReplicaAdmin"/>), while a
/// store holding a controller voter is killed for good; once the store timeout has passed the driver marks it down (as
/// store liveness would) and the planner re-replicates the voter onto a live store. When the group is back at three
/// voters on live stores, a second voter's store is killed for good the same way. The controller's logic is replaced now
/// and then by a new loop and client (a new activation), which resumes from the rows. Checked: each repair finishes
/// (the group's committed descriptor names three voters, none on a dead store, and no operation is left), and after the
/// second loss the oracle and the rows still serve. The loop keeps the group at three voters here
/// (<see cref="OperationLoop.ControllerGroupTarget"/>), so that five stores up do not grow it: growth has its own
/// scenario (<see cref="SimControllerGrowth"/>).
/// </summary>
internal sealed class SimControllerRepair
{
    private const long StoreDownAfterMs = 3_000;
    private const long RepairBudgetMs = 90_000;
    private readonly ReplicaSimulation _sim;
    private readonly ReplicaMoveOptions _options = new()
    {
        StepTimeout = TimeSpan.FromSeconds(6),
        TransferTimeout = TimeSpan.FromSeconds(3),
    };

    private ControllerGroupClient _group;
    private OperationLoop _loop;

    public SimControllerRepair(ReplicaSimulation sim)
    {
        _sim = sim;
        Admin = new SimReplicaAdmin(sim);
        (_group, _loop) = NewController();
    }

    public SimReplicaAdmin Admin { get; }

    public bool Finished { get; private set; } = true;

    /// <summary>Stores killed for good, in order.</summary>
    public List<StoreId> Killed { get; } = new();

    /// <summary>Repairs that ended with three voters on live stores.</summary>
    public int Repaired { get; private set; }

    /// <summary>Times the controller's logic was replaced by a new loop and client.</summary>
    public int Replacements { get; private set; }

    /// <summary>Errors the operation loop reported (kept for the trace; expected under faults).</summary>
    public int LoopErrors { get; private set; }

    public async Task RunAsync(int losses)
    {
        Finished = false;
        try
        {
            await RepairAsync(losses);
        }
        catch (Exception e)
        {
            _sim.Violation($"the controller's repair failed: {e}");
        }
    }

    private async Task RepairAsync(int losses)
    {
        await SeedAsync();
        for (int loss = 0; loss < losses; loss++)
        {
            // The group must be whole before the next store dies (two losses at once would be a lost quorum).
            var descriptor = await WholeGroupAsync();
            if (descriptor is null)
            {
                return;
            }

            var voters = descriptor.Replicas;
            var victim = voters[_sim.Random.Next(voters.Length)];
            Killed.Add(victim);
            _sim.KillForGood(victim);
            long killedAt = _sim.Now;
            bool markedDown = false;
            long deadline = _sim.Now + RepairBudgetMs;
            while (true)
            {
                if (_sim.Now > deadline)
                {
                    _sim.Violation($"the controller group did not recover from the loss of store {victim} within {RepairBudgetMs} ms");
                    return;
                }

                if (!markedDown && _sim.Now - killedAt >= StoreDownAfterMs)
                {
                    markedDown = await MarkDownAsync(victim);
                }

                await RoundAsync();
                if (markedDown && await RepairedAsync() is { } whole)
                {
                    _sim.Trace($"controller group repaired after losing store {victim}: {whole}");
                    Repaired++;
                    break;
                }

                await _sim.Delay(200 + _sim.Random.Next(200));
            }
        }

        await CheckStillServesAsync();
        Finished = true;
    }

    /// <summary>The map row (no user shard: the group is the only one) and one up row per store, each only if absent.</summary>
    private async Task SeedAsync()
    {
        while (true)
        {
            try
            {
                // A map lists at least one shard: one with no replica anywhere, which no repair touches (the simulation
                // hosts only the controller group).
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

    private async Task<bool> MarkDownAsync(StoreId store)
    {
        try
        {
            var row = await _group.ReadAsync(ControllerRows.Store(store));
            if (row is null)
            {
                return false;
            }

            var record = StoreRecord.Decode(row);
            if (record.State == StoreState.Down)
            {
                return true;
            }

            return await _group.CompareAndSwapAsync(ControllerRows.Store(store), row, (record with { State = StoreState.Down, StateSinceUnixMs = Admin.WallClockMs }).Encode());
        }
        catch (NoKvTimeoutException)
        {
            return false;
        }
    }

    /// <summary>One round of the operation loop, with the controller's logic replaced by a new one one round in eight.</summary>
    private async Task RoundAsync()
    {
        if (_sim.Random.Next(8) == 0)
        {
            Replacements++;
            (_group, _loop) = NewController();
        }

        try
        {
            var (_, errors) = await _loop.RunOnceAsync();
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

    /// <summary>The group's committed descriptor once it has three voters on stores that are not dead and no operation in progress, else null.</summary>
    private async Task<ShardDescriptor?> RepairedAsync()
    {
        ShardDescriptor? descriptor;
        try
        {
            descriptor = await _loop.ControllerDescriptorAsync();
            if (descriptor is null || (await ControllerSnapshot.ReadAsync(_group)).Operations.Count > 0)
            {
                return null;
            }
        }
        catch (NoKvTimeoutException)
        {
            return null;
        }

        if (descriptor.Peers.Length != 3 || descriptor.Peers.Any(p => p.Role != PeerRole.Voter || _sim.IsDeadForGood(p.Store)))
        {
            return null;
        }

        _sim.ReplaceMap([descriptor]);
        return descriptor;
    }

    private async Task<ShardDescriptor?> WholeGroupAsync()
    {
        long deadline = _sim.Now + RepairBudgetMs;
        while (_sim.Now < deadline)
        {
            if (await RepairedAsync() is { } whole)
            {
                return whole;
            }

            await _sim.Delay(200);
        }

        _sim.Violation("the controller group was not whole before a store was to be killed");
        return null;
    }

    /// <summary>After the last loss: a new oracle and a new client (knowing only the bootstrap stores) still get served.</summary>
    private async Task CheckStillServesAsync()
    {
        var (group, _) = NewController();
        var oracle = new TimestampOracle(group);
        long deadline = _sim.Now + RepairBudgetMs;
        while (true)
        {
            try
            {
                var batch = await oracle.GetTimestampsAsync(2);
                var row = await group.ReadAsync(ControllerRows.Timestamps);
                if (row is null || TimestampOracleRow.Decode(row) < batch.Last)
                {
                    _sim.Violation($"timestamps {batch} handed out above the persisted mark after the losses");
                }

                _sim.Trace($"after losing stores {string.Join(", ", Killed)}: timestamps {batch}, group known as {group.Membership}");
                return;
            }
            catch (NoKvTimeoutException) when (_sim.Now < deadline)
            {
                await _sim.Delay(500);
            }
            catch (NoKvTimeoutException e)
            {
                _sim.Violation($"the oracle did not serve after losing stores {string.Join(", ", Killed)}: {e.Message}");
                return;
            }
        }
    }

    /// <summary>A new controller logic: its own group client, starting from the bootstrap stores, and its own loop.</summary>
    private (ControllerGroupClient Group, OperationLoop Loop) NewController()
    {
        var group = new ControllerGroupClient(new SimControllerTransport(_sim, 0), new ControllerMembership(1, _sim.Shard.Replicas), _sim.NextSeed(), Timeout.InfiniteTimeSpan, TimeSpan.FromSeconds(15));
        return (group, new OperationLoop(group, Admin, _options, 4) { ControllerGroupTarget = OperationPlanner.ControllerGroupVoters });
    }
}
