using System.Buffers.Binary;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// The controller's merge of a shard (the source) into an adjacent neighbour whose replicas live on the same stores
/// (the target), docs/controller.md "Merge", as an operation row (shard = the source) whose steps each survive a crash
/// of the controller logic at any point. Each step first looks at what the replicas applied, and skips what is done:
/// <list type="number">
/// <item><b>Prepare</b>: a source replica that reports the merge state into the target means the prepare applied;
/// otherwise propose PrepareMerge to the source's leader (a duplicate is refused by the frozen source). Its log position
/// is recorded with the next step.</item>
/// <item><b>WaitSource</b>: every source replica must report that prepare applied (a target replica then never waits for a
/// source replica that can no longer catch up). Past <see cref="ReplicaMoveOptions.StepTimeout"/> the operation rolls
/// back instead.</item>
/// <item><b>Commit</b>: a target replica at the merged epoch means the commit applied; otherwise propose CommitMerge to
/// the target's leader. From here the operation only goes forward: the decision to commit was recorded (a swap) before
/// the first proposal, and a rollback is recorded only from WaitSource, so no copy of the logic proposes both.</item>
/// <item><b>CommitMap</b>: one swap of the map row drops the source and gives the target the merged range and epoch.</item>
/// <item><b>Cleanup</b>: asks each store to destroy the source's replica (each target replica already removed it when it
/// applied the commit, unless it skipped it; the replica refuses while its store's target has not taken it over); then
/// the row is deleted.</item>
/// <item><b>Rollback</b> (100): propose RollbackMerge to the source until no replica reports the merge; delete the row.</item>
/// </list>
/// </summary>
public sealed class MergeOperation
{
    private const byte ArgumentVersion = 1;
    private const int PrepareStep = 1;
    private const int WaitSourceStep = 2;
    private const int CommitStep = 3;
    private const int CommitMapStep = 4;
    private const int CleanupStep = 5;
    private const int RollbackStep = 100;
    private readonly ControllerGroupClient _group;
    private readonly IShardAccess _shards;
    private readonly TimeSpan _stepTimeout;

    public MergeOperation(ControllerGroupClient group, IShardAccess shards, TimeSpan stepTimeout)
    {
        _group = group;
        _shards = shards;
        _stepTimeout = stepTimeout;
    }

    /// <summary>The target shard of a merge operation (its row's shard is the source).</summary>
    public static ShardId TargetOf(OperationRecord operation) => DecodeArgument(operation.Argument).Target;

    /// <summary>Starts a merge of <paramref name="source"/> into <paramref name="target"/> and runs it to the end.</summary>
    /// <exception cref="ArgumentException">A shard is unknown, the two are not adjacent or not on the same stores, or one is busy.</exception>
    /// <exception cref="InvalidOperationException">The merge rolled back (the source could not be frozen everywhere in time).</exception>
    public async Task<MergeOutcome> MergeAsync(ShardId source, ShardId target, Action<long>? created = null, CancellationToken cancellationToken = default)
    {
        var record = await StartAsync(source, target, cancellationToken).ConfigureAwait(true);
        created?.Invoke(record.Id);
        return await RunAsync(record, cancellationToken).ConfigureAwait(true)
            ?? throw new InvalidOperationException($"The merge of shard {source} into shard {target} rolled back (a source replica did not apply the prepare in time, or a shard changed); try again.");
    }

    /// <summary>Validates against the map and records the operation at its prepare step (running it is <see cref="RunAsync"/>).</summary>
    public async Task<OperationRecord> StartAsync(ShardId source, ShardId target, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var snapshot = await ControllerSnapshot.ReadAsync(_group, cancellationToken).ConfigureAwait(true);
            var mapRow = await _group.ReadAsync(ControllerRows.Map, cancellationToken).ConfigureAwait(true)
                ?? throw new InvalidOperationException("The controller has no shard map yet.");
            var map = ControllerMap.Decode(mapRow);
            var s = Array.Find(map.Shards, d => d.Id == source) ?? throw new ArgumentException($"Shard {source} is not in the map.", nameof(source));
            var t = Array.Find(map.Shards, d => d.Id == target) ?? throw new ArgumentException($"Shard {target} is not in the map.", nameof(target));
            Validate(s, t);
            if (snapshot.Operations.FirstOrDefault(o => Involves(o, source) || Involves(o, target)) is { } busy)
            {
                throw new ArgumentException($"Shard {busy.Shard} has operation {busy.Id} ({busy.Kind}) in progress.", nameof(source));
            }

            long operationId = map.NextOperationId;
            var reserved = map with { Version = map.Version + 1, NextOperationId = map.NextOperationId + 1 };
            if (!await _group.CompareAndSwapAsync(ControllerRows.Map, mapRow, reserved.Encode(), cancellationToken).ConfigureAwait(true))
            {
                continue;
            }

            long now = _group.Transport.WallClockMs;
            var argument = new MergeArgument(target, s.Epoch, s.ConfVersion, t.Epoch, t.ConfVersion, 0, 0);
            var record = new OperationRecord(operationId, OperationKind.Merge, source, PrepareStep, null, null, 0, now, now, EncodeArgument(argument));
            if (!await _group.CompareAndSwapAsync(ControllerRows.Operation(operationId), null, record.Encode(), cancellationToken).ConfigureAwait(true))
            {
                throw new InvalidOperationException($"Operation {operationId} exists already; the operation allocator went backwards.");
            }

            return record;
        }
    }

    /// <summary>True when <paramref name="operation"/> changes <paramref name="shard"/> (a merge changes its target too).</summary>
    public static bool Involves(OperationRecord operation, ShardId shard) =>
        operation.Shard == shard || (operation.Kind == OperationKind.Merge && TargetOf(operation) == shard);

    /// <summary>Why <paramref name="source"/> cannot merge into <paramref name="target"/> as the map has them.</summary>
    /// <exception cref="ArgumentException">Not adjacent, not co-located, the same shard or a system group.</exception>
    public static void Validate(ShardDescriptor source, ShardDescriptor target)
    {
        if (source.Id == target.Id || source.Id == SystemShards.Controller || target.Id == SystemShards.Controller)
        {
            throw new ArgumentException($"Shards {source.Id} and {target.Id} cannot merge.", nameof(source));
        }

        bool adjacent = (source.Range.End.Length != 0 && source.Range.End.AsSpan().SequenceEqual(target.Range.Start))
            || (target.Range.End.Length != 0 && target.Range.End.AsSpan().SequenceEqual(source.Range.Start));
        if (!adjacent)
        {
            throw new ArgumentException($"Shard {source.Id} {source.Range} is not adjacent to shard {target.Id} {target.Range}.", nameof(target));
        }

        if (source.Peers.Length != target.Peers.Length || Array.Exists(target.Peers, p => source.PeerOn(p.Store) is null))
        {
            throw new ArgumentException(
                $"Shards {source.Id} and {target.Id} do not have replicas on the same stores ({string.Join(",", source.Peers.Select(p => p.Store))} vs {string.Join(",", target.Peers.Select(p => p.Store))}); move replicas first ('nokv shard move').",
                nameof(target));
        }
    }

    /// <summary>Runs (or resumes) a merge from its recorded step; null when it rolled back.</summary>
    public async Task<MergeOutcome?> RunAsync(OperationRecord operation, CancellationToken cancellationToken = default)
    {
        var current = operation;
        var argument = DecodeArgument(current.Argument);
        var stores = await StoresAsync(current.Shard, argument.Target, cancellationToken).ConfigureAwait(true);
        if (current.Step == PrepareStep)
        {
            if (await PrepareAsync(current.Shard, argument, stores, cancellationToken).ConfigureAwait(true) is not { } prepared)
            {
                await EndAsync(current, cancellationToken).ConfigureAwait(true);
                return null;
            }

            argument = argument with { PrepareIndex = prepared.Index, PrepareTerm = prepared.Term };
            current = await AdvanceAsync(current, WaitSourceStep, EncodeArgument(argument), cancellationToken).ConfigureAwait(true);
        }

        if (current.Step == WaitSourceStep)
        {
            bool final = await WaitSourceAsync(current.Shard, argument, stores, cancellationToken).ConfigureAwait(true);
            current = await AdvanceAsync(current, final ? CommitStep : RollbackStep, current.Argument, cancellationToken).ConfigureAwait(true);
        }

        if (current.Step == RollbackStep)
        {
            await RollbackAsync(current.Shard, argument, stores, cancellationToken).ConfigureAwait(true);
            await EndAsync(current, cancellationToken).ConfigureAwait(true);
            return null;
        }

        ShardDescriptor? merged = null;
        if (current.Step == CommitStep)
        {
            merged = await CommitAsync(current.Shard, argument, stores, cancellationToken).ConfigureAwait(true);
            current = await AdvanceAsync(current, CommitMapStep, current.Argument, cancellationToken).ConfigureAwait(true);
        }

        merged ??= await NewestAsync(argument.Target, stores, cancellationToken).ConfigureAwait(true);
        if (merged is null || merged.Epoch <= argument.TargetEpoch)
        {
            throw new InvalidOperationException($"Merge operation {operation.Id}: no replica of shard {argument.Target} answered with the merged descriptor.");
        }

        if (current.Step == CommitMapStep)
        {
            await CommitMapAsync(current.Shard, merged, cancellationToken).ConfigureAwait(true);
            current = await AdvanceAsync(current, CleanupStep, current.Argument, cancellationToken).ConfigureAwait(true);
        }

        await CleanupAsync(current.Shard, stores, cancellationToken).ConfigureAwait(true);
        await EndAsync(current, cancellationToken).ConfigureAwait(true);
        return new MergeOutcome(merged, current.Shard);
    }

    private async Task<StoreId[]> StoresAsync(ShardId source, ShardId target, CancellationToken cancellationToken)
    {
        var mapRow = await _group.ReadAsync(ControllerRows.Map, cancellationToken).ConfigureAwait(true)
            ?? throw new InvalidOperationException("The controller has no shard map yet.");
        var map = ControllerMap.Decode(mapRow);
        var shard = Array.Find(map.Shards, d => d.Id == target) ?? Array.Find(map.Shards, d => d.Id == source)
            ?? throw new InvalidOperationException($"Neither shard {source} nor {target} is in the map.");
        return shard.Peers.Select(p => p.Store).ToArray();
    }

    private async Task<(ulong Index, ulong Term)?> PrepareAsync(ShardId source, MergeArgument argument, StoreId[] stores, CancellationToken cancellationToken)
    {
        var request = new MergeShardRequest { Shard = source, Step = MergeStep.Prepare, ExpectedEpoch = argument.SourceEpoch, ExpectedConfVersion = argument.SourceConfVersion, Target = argument.Target };
        long deadline = _group.Transport.NowMs + (long)_stepTimeout.TotalMilliseconds;
        int next = 0;
        while (true)
        {
            foreach (var store in stores)
            {
                var status = await StatusAsync(store, source, cancellationToken).ConfigureAwait(true);
                if (status?.MergingInto is { } into && into == argument.Target)
                {
                    return ((ulong)status.MergePrepareIndex, (ulong)status.MergePrepareTerm);
                }

                if (status?.Descriptor is { } d && (d.Epoch != argument.SourceEpoch || d.ConfVersion != argument.SourceConfVersion))
                {
                    return null; // the source changed since the merge was planned: nothing was prepared
                }
            }

            if (_group.Transport.NowMs > deadline)
            {
                throw new TimeoutException($"Merge of shard {source}: no leader applied the prepare in time.");
            }

            var response = await ProposeAsync(stores[next % stores.Length], request, cancellationToken).ConfigureAwait(true);
            next = NextStore(response, stores, next);
            if (response.Code == NoKvErrorCode.InvalidRange)
            {
                return null;
            }

            if (response.Code != NoKvErrorCode.Ok)
            {
                await _group.Transport.DelayAsync(50, cancellationToken).ConfigureAwait(true);
            }
        }
    }

    /// <summary>True once every source replica reports the prepare applied; false when the step timed out (roll back).</summary>
    private async Task<bool> WaitSourceAsync(ShardId source, MergeArgument argument, StoreId[] stores, CancellationToken cancellationToken)
    {
        long deadline = _group.Transport.NowMs + (long)_stepTimeout.TotalMilliseconds;
        while (true)
        {
            bool all = true;
            foreach (var store in stores)
            {
                var status = await StatusAsync(store, source, cancellationToken).ConfigureAwait(true);
                all &= status?.MergingInto == argument.Target && status.MergePrepareIndex == (long)argument.PrepareIndex;
            }

            if (all)
            {
                return true;
            }

            if (_group.Transport.NowMs > deadline)
            {
                return false;
            }

            await _group.Transport.DelayAsync(100, cancellationToken).ConfigureAwait(true);
        }
    }

    private async Task<ShardDescriptor> CommitAsync(ShardId source, MergeArgument argument, StoreId[] stores, CancellationToken cancellationToken)
    {
        ShardDescriptor? sourceDescriptor = null;
        int next = 0;
        while (true)
        {
            if (await NewestAsync(argument.Target, stores, cancellationToken).ConfigureAwait(true) is { } newest && newest.Epoch > argument.TargetEpoch)
            {
                return newest;
            }

            foreach (var store in stores)
            {
                if (sourceDescriptor is null && await StatusAsync(store, source, cancellationToken).ConfigureAwait(true) is { MergingInto: { } into, Descriptor: { } d } && into == argument.Target)
                {
                    sourceDescriptor = d;
                }
            }

            if (sourceDescriptor is null)
            {
                // Every source replica is gone or unreachable and no target replica shows the commit yet: wait for either.
                await _group.Transport.DelayAsync(200, cancellationToken).ConfigureAwait(true);
                continue;
            }

            var request = new MergeShardRequest
            {
                Shard = argument.Target,
                Step = MergeStep.Commit,
                ExpectedEpoch = argument.TargetEpoch,
                ExpectedConfVersion = argument.TargetConfVersion,
                Source = sourceDescriptor,
                PrepareIndex = (long)argument.PrepareIndex,
                PrepareTerm = (long)argument.PrepareTerm,
            };
            var response = await ProposeAsync(stores[next % stores.Length], request, cancellationToken).ConfigureAwait(true);
            next = NextStore(response, stores, next);
            if (response.Code != NoKvErrorCode.Ok)
            {
                await _group.Transport.DelayAsync(50, cancellationToken).ConfigureAwait(true);
            }
        }
    }

    private async Task RollbackAsync(ShardId source, MergeArgument argument, StoreId[] stores, CancellationToken cancellationToken)
    {
        var request = new MergeShardRequest { Shard = source, Step = MergeStep.Rollback, ExpectedEpoch = argument.SourceEpoch, PrepareIndex = (long)argument.PrepareIndex };
        int next = 0;
        while (true)
        {
            bool anyMerging = false;
            foreach (var store in stores)
            {
                var status = await StatusAsync(store, source, cancellationToken).ConfigureAwait(true);
                anyMerging |= status is null || status.MergingInto is not null;
            }

            if (!anyMerging)
            {
                return;
            }

            var response = await ProposeAsync(stores[next % stores.Length], request, cancellationToken).ConfigureAwait(true);
            next = NextStore(response, stores, next);
            await _group.Transport.DelayAsync(response.Code == NoKvErrorCode.Ok ? 100 : 50, cancellationToken).ConfigureAwait(true);
        }
    }

    private async Task CommitMapAsync(ShardId source, ShardDescriptor merged, CancellationToken cancellationToken)
    {
        while (true)
        {
            var mapRow = await _group.ReadAsync(ControllerRows.Map, cancellationToken).ConfigureAwait(true)
                ?? throw new InvalidOperationException("The controller's shard map disappeared.");
            var map = ControllerMap.Decode(mapRow);
            if (!Array.Exists(map.Shards, s => s.Id == source))
            {
                return;
            }

            var shards = map.Shards.Where(s => s.Id != source).Select(s => s.Id == merged.Id ? merged : s).ToArray();
            var next = map with { Version = map.Version + 1, Shards = shards };
            if (await _group.CompareAndSwapAsync(ControllerRows.Map, mapRow, next.Encode(), cancellationToken).ConfigureAwait(true))
            {
                return;
            }
        }
    }

    /// <summary>Best effort: each store's replica of the source (those whose target skipped the commit) is destroyed.</summary>
    private async Task CleanupAsync(ShardId source, StoreId[] stores, CancellationToken cancellationToken)
    {
        foreach (var store in stores)
        {
            var status = await StatusAsync(store, source, cancellationToken).ConfigureAwait(true);
            if (status?.Descriptor is not null && status.PeerId != 0)
            {
                try
                {
                    await _shards.DestroyAsync(store, source, status.PeerId, cancellationToken).ConfigureAwait(true);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A store that is down keeps its tombstoned copy until it returns (it never opens again).
                }
            }
        }
    }

    private async Task<ShardDescriptor?> NewestAsync(ShardId shard, StoreId[] stores, CancellationToken cancellationToken)
    {
        ShardDescriptor? newest = null;
        foreach (var store in stores)
        {
            if ((await StatusAsync(store, shard, cancellationToken).ConfigureAwait(true))?.Descriptor is { } seen && (newest is null || seen.Epoch > newest.Epoch))
            {
                newest = seen;
            }
        }

        return newest;
    }

    private async Task<NoKv.Abstractions.Status.ReplicaStatus?> StatusAsync(StoreId store, ShardId shard, CancellationToken cancellationToken)
    {
        try
        {
            var status = await _shards.StatusAsync(store, shard, cancellationToken).ConfigureAwait(true);
            return status.Descriptor is null ? null : status;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null;
        }
    }

    private async Task<WriteResponse> ProposeAsync(StoreId store, MergeShardRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await _shards.MergeAsync(store, request, cancellationToken).ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new WriteResponse { Code = NoKvErrorCode.StoreUnavailable, Detail = e.Message };
        }
    }

    private static int NextStore(WriteResponse response, StoreId[] stores, int current) =>
        response.Code == NoKvErrorCode.NotLeader && response.LeaderHint is { } leader && Array.IndexOf(stores, leader) >= 0
            ? Array.IndexOf(stores, leader)
            : response.Code == NoKvErrorCode.Ok ? current : current + 1;

    private async Task<OperationRecord> AdvanceAsync(OperationRecord operation, int step, byte[] argument, CancellationToken cancellationToken)
    {
        var next = operation with { Step = step, StepSinceUnixMs = _group.Transport.WallClockMs, Argument = argument };
        if (!await _group.CompareAndSwapAsync(ControllerRows.Operation(operation.Id), operation.Encode(), next.Encode(), cancellationToken).ConfigureAwait(true))
        {
            // Another copy of the logic moved it: continue from what it recorded (never from this copy's decision).
            var row = await _group.ReadAsync(ControllerRows.Operation(operation.Id), cancellationToken).ConfigureAwait(true)
                ?? throw new InvalidOperationException($"Merge operation {operation.Id} ended in another copy of the controller logic.");
            return OperationRecord.Decode(row);
        }

        return next;
    }

    private async Task EndAsync(OperationRecord operation, CancellationToken cancellationToken)
    {
        var row = await _group.ReadAsync(ControllerRows.Operation(operation.Id), cancellationToken).ConfigureAwait(true);
        if (row is not null)
        {
            await _group.CompareAndSwapAsync(ControllerRows.Operation(operation.Id), row, null, cancellationToken).ConfigureAwait(true);
        }
    }

    private sealed record MergeArgument(ShardId Target, long SourceEpoch, long SourceConfVersion, long TargetEpoch, long TargetConfVersion, ulong PrepareIndex, ulong PrepareTerm);

    /// <summary><c>version (1) = 1 | target (8) | source epoch (8) | source conf (8) | target epoch (8) | target conf (8) | prepare index (8) | prepare term (8)</c>, LE.</summary>
    private static byte[] EncodeArgument(MergeArgument a)
    {
        var bytes = new byte[57];
        bytes[0] = ArgumentVersion;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), a.Target.Value);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(9), a.SourceEpoch);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(17), a.SourceConfVersion);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(25), a.TargetEpoch);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(33), a.TargetConfVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(41), a.PrepareIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(49), a.PrepareTerm);
        return bytes;
    }

    private static MergeArgument DecodeArgument(byte[] argument)
    {
        if (argument.Length != 57 || argument[0] != ArgumentVersion)
        {
            throw new InvalidDataException("Merge operation argument is not a version 1 argument.");
        }

        return new MergeArgument(
            new ShardId(BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(1))),
            BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(9)),
            BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(17)),
            BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(25)),
            BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(33)),
            BinaryPrimitives.ReadUInt64LittleEndian(argument.AsSpan(41)),
            BinaryPrimitives.ReadUInt64LittleEndian(argument.AsSpan(49)));
    }
}
