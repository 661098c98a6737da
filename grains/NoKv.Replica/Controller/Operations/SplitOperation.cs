using System.Buffers.Binary;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// The controller's split of one shard (docs/controller.md, "Split"), as an operation row whose steps each survive a
/// crash of the controller logic at any point:
/// <list type="number">
/// <item><b>Allocate</b> (before the row exists): one swap of the map row reserves the new shard id, one peer id per
/// store of the shard and the operation id; a second swap creates the operation row (step 1) naming them, with the
/// expected epoch and the key. A crash between the two leaks ids, which are never reused, and starts nothing.</item>
/// <item><b>Propose</b>: first look at the committed descriptor (any replica): a shard at the next epoch ending at
/// the key means the split applied; a shard at another epoch means something else changed it (the operation ends).
/// Otherwise propose the split to the leader; a duplicate proposal is refused by its epoch, so redoing this step
/// is harmless. Recorded as step 2.</item>
/// <item><b>Commit</b>: one swap of the map row replaces the shard by both halves with their new epoch (skipped if the
/// map already holds the new shard), then the operation row is deleted.</item>
/// </list>
/// Any copy of the controller logic may run or resume an operation; every write is a compare-and-swap, so two
/// copies racing only repeat checks.
/// </summary>
public sealed class SplitOperation
{
    private const byte ArgumentVersion = 1;
    private const int ProposeStep = 1;
    private const int CommitStep = 2;
    private readonly IOperationRows _rows;
    private readonly IShardAccess _shards;
    private readonly TimeSpan _operationTimeout;

    /// <param name="rows">The controller rows (the map and the operation rows).</param>
    /// <param name="shards">The shards' replicas, and the clock the operation's deadlines follow.</param>
    /// <param name="operationTimeout">A quarter of how long the propose step keeps trying before it gives up for this round.</param>
    public SplitOperation(IOperationRows rows, IShardAccess shards, TimeSpan operationTimeout)
    {
        _rows = rows;
        _shards = shards;
        _operationTimeout = operationTimeout;
    }

    /// <summary>Starts a split of <paramref name="shard"/> at <paramref name="key"/> (null: the middle by size) and runs it to the end.</summary>
    /// <exception cref="ArgumentException">No such shard, or no valid split key.</exception>
    public async Task<SplitOutcome> SplitAsync(ShardId shard, byte[]? key, Action<long>? created = null, CancellationToken cancellationToken = default)
    {
        var record = await StartAsync(shard, key, cancellationToken).ConfigureAwait(true);
        created?.Invoke(record.Id);
        return await RunAsync(record, cancellationToken).ConfigureAwait(true)
            ?? throw new InvalidOperationException($"Shard {shard} changed while it was being split; try again.");
    }

    /// <summary>
    /// The allocate step alone: reserves the ids and records the operation at its propose step, without running it
    /// (<see cref="RunAsync"/> does, here or in any later copy of the controller logic).
    /// </summary>
    /// <exception cref="ArgumentException">No such shard, or no valid split key.</exception>
    public async Task<OperationRecord> StartAsync(ShardId shard, byte[]? key, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var (map, mapRow) = await _rows.ReadMapAsync(cancellationToken).ConfigureAwait(true);
            var descriptor = Array.Find(map.Shards, s => s.Id == shard) ?? throw new ArgumentException($"Shard {shard} is not in the map.", nameof(shard));
            foreach (var busy in await _rows.ListOperationsAsync(cancellationToken).ConfigureAwait(true))
            {
                if (MergeRunner.Involves(busy, shard))
                {
                    throw new ArgumentException($"Shard {shard} has operation {busy.Id} ({busy.Kind}) in progress.", nameof(shard));
                }
            }

            key ??= await MiddleKeyAsync(descriptor, cancellationToken).ConfigureAwait(true)
                ?? throw new ArgumentException($"Shard {shard} holds too few keys to split by size; name a key.", nameof(key));
            if (key.Length == 0 || !descriptor.Range.Contains(key) || key.AsSpan().SequenceEqual(descriptor.Range.Start))
            {
                throw new ArgumentException($"Key {KeyFormatter.Format(key)} is not strictly inside shard {shard} {descriptor.Range}.", nameof(key));
            }

            var newShard = new ShardId(map.NextShardId);
            ulong firstPeer = map.NextPeerId;
            long operationId = map.NextOperationId;
            var reserved = map with
            {
                Version = map.Version + 1,
                NextShardId = map.NextShardId + 1,
                NextPeerId = map.NextPeerId + (ulong)descriptor.Peers.Length,
                NextOperationId = map.NextOperationId + 1,
            };
            if (!await _rows.SwapMapAsync(mapRow, reserved, cancellationToken).ConfigureAwait(true))
            {
                continue;
            }

            long now = _shards.WallClockMs;
            var stores = descriptor.Peers.Select(p => p.Store).ToArray();
            var record = new OperationRecord(operationId, OperationKind.Split, shard, ProposeStep, null, null, firstPeer, now, now, EncodeArgument(descriptor.Epoch, newShard, stores, key));
            if (!await _rows.SwapOperationAsync(operationId, null, record, cancellationToken).ConfigureAwait(true))
            {
                throw new InvalidOperationException($"Operation {operationId} exists already; the operation allocator went backwards.");
            }

            return record;
        }
    }

    /// <summary>Runs (or resumes) a split operation from its recorded step; null when it ended without splitting.</summary>
    public async Task<SplitOutcome?> RunAsync(OperationRecord operation, CancellationToken cancellationToken = default)
    {
        var (epoch, newShard, stores, key) = DecodeArgument(operation.Argument);
        var peers = stores.Select((s, i) => new PeerDescriptor(operation.NewPeerId + (ulong)i, s, PeerRole.Voter)).ToArray();
        var current = operation;
        ShardDescriptor? left = null;
        if (current.Step == ProposeStep)
        {
            left = await ProposeAsync(operation.Shard, stores, epoch, key, newShard, peers, cancellationToken).ConfigureAwait(true);
            if (left is null)
            {
                await EndAsync(current, cancellationToken).ConfigureAwait(true);
                return null;
            }

            current = await AdvanceAsync(current, CommitStep, cancellationToken).ConfigureAwait(true);
        }

        left ??= await CommittedAsync(operation.Shard, stores, cancellationToken).ConfigureAwait(true);
        if (left is null || left.Epoch != epoch + 1)
        {
            throw new InvalidOperationException($"Split operation {operation.Id}: no replica of shard {operation.Shard} answered with the split descriptor.");
        }

        var right = await CommitMapAsync(left, newShard, key, peers, cancellationToken).ConfigureAwait(true);
        await EndAsync(current, cancellationToken).ConfigureAwait(true);
        return new SplitOutcome(left, right);
    }

    private static PeerDescriptor[] RightPeers(ShardDescriptor left, PeerDescriptor[] planned) =>
        left.Peers.Select(p => new PeerDescriptor(Array.Find(planned, q => q.Store == p.Store).PeerId, p.Store, p.Role)).ToArray();

    /// <summary>Proposes until applied; returns the left half's committed descriptor, or null when the shard changed otherwise.</summary>
    private async Task<ShardDescriptor?> ProposeAsync(ShardId shard, StoreId[] stores, long epoch, byte[] key, ShardId newShard, PeerDescriptor[] peers, CancellationToken cancellationToken)
    {
        long deadline = _shards.NowMs + ((long)_operationTimeout.TotalMilliseconds * 4);
        var request = new SplitShardRequest { Shard = shard, ExpectedEpoch = epoch, SplitKey = key, NewShard = newShard, NewPeers = peers };
        int next = 0;
        while (true)
        {
            // Done already (by this step before a crash, or by another copy of the controller logic)?
            if (await CommittedAsync(shard, stores, cancellationToken).ConfigureAwait(true) is { } committed && committed.Epoch != epoch)
            {
                return committed.Epoch == epoch + 1 && committed.Range.End.AsSpan().SequenceEqual(key) ? committed : null;
            }

            if (_shards.NowMs > deadline)
            {
                throw new TimeoutException($"Split of shard {shard}: no leader applied it in time.");
            }

            var store = stores[next % stores.Length];
            WriteResponse response;
            try
            {
                response = await _shards.SplitAsync(store, request, cancellationToken).ConfigureAwait(true);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                response = new WriteResponse { Code = NoKvErrorCode.StoreUnavailable, Detail = e.Message };
            }

            switch (response.Code)
            {
                case NoKvErrorCode.Ok:
                    continue; // the check above reads the applied descriptor
                case NoKvErrorCode.InvalidRange:
                    throw new ArgumentException($"Split of shard {shard} refused: {response.Detail}");
                case NoKvErrorCode.NotLeader when response.LeaderHint is { } leader && Array.IndexOf(stores, leader) >= 0:
                    next = Array.IndexOf(stores, leader);
                    break;
                default:
                    next++;
                    await _shards.DelayAsync(50, cancellationToken).ConfigureAwait(true);
                    break;
            }
        }
    }

    /// <summary>The newest descriptor any reachable replica of the shard applied (the highest epoch), or null.</summary>
    private async Task<ShardDescriptor?> CommittedAsync(ShardId shard, StoreId[] stores, CancellationToken cancellationToken)
    {
        ShardDescriptor? newest = null;
        foreach (var store in stores)
        {
            ShardDescriptor? seen;
            try
            {
                seen = await _shards.DescriptorAsync(store, shard, cancellationToken).ConfigureAwait(true);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                seen = null;
            }

            if (seen is not null && (newest is null || seen.Epoch > newest.Epoch))
            {
                newest = seen;
            }
        }

        return newest;
    }

    /// <summary>Replaces the shard by both halves in the map (unless done already); returns the right half as committed.</summary>
    private async Task<ShardDescriptor> CommitMapAsync(ShardDescriptor left, ShardId newShard, byte[] key, PeerDescriptor[] peers, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (map, mapRow) = await _rows.ReadMapAsync(cancellationToken).ConfigureAwait(true);
            if (Array.Find(map.Shards, s => s.Id == newShard) is { } done)
            {
                return done;
            }

            int at = Array.FindIndex(map.Shards, s => s.Id == left.Id);
            if (at < 0)
            {
                throw new InvalidOperationException($"Shard {left.Id} left the map during its split.");
            }

            // The right half ends where the shard ended before the split (the map still holds it unsplit).
            var right = new ShardDescriptor(newShard, new KeyRange(key, map.Shards[at].Range.End), left.Epoch, left.ConfVersion, RightPeers(left, peers));

            var shards = map.Shards.ToList();
            shards[at] = left;
            shards.Insert(at + 1, right);
            var next = map with { Version = map.Version + 1, Shards = shards.ToArray() };
            if (await _rows.SwapMapAsync(mapRow, next, cancellationToken).ConfigureAwait(true))
            {
                return right;
            }
        }
    }

    private async Task<OperationRecord> AdvanceAsync(OperationRecord operation, int step, CancellationToken cancellationToken)
    {
        var next = operation with { Step = step, StepSinceUnixMs = _shards.WallClockMs };
        if (!await _rows.SwapOperationAsync(operation.Id, operation.Encode(), next, cancellationToken).ConfigureAwait(true))
        {
            // Another copy of the logic advanced it; continue from what is recorded (this step is done either way).
            var (recorded, _) = await _rows.ReadOperationAsync(operation.Id, cancellationToken).ConfigureAwait(true);
            return recorded ?? next;
        }

        return next;
    }

    private async Task EndAsync(OperationRecord operation, CancellationToken cancellationToken)
    {
        var (_, row) = await _rows.ReadOperationAsync(operation.Id, cancellationToken).ConfigureAwait(true);
        if (row is not null)
        {
            await _rows.SwapOperationAsync(operation.Id, row, null, cancellationToken).ConfigureAwait(true);
        }
    }

    private async Task<byte[]?> MiddleKeyAsync(ShardDescriptor shard, CancellationToken cancellationToken)
    {
        foreach (var store in shard.Replicas)
        {
            try
            {
                if (await _shards.MiddleKeyAsync(store, shard.Id, cancellationToken).ConfigureAwait(true) is { } key)
                {
                    return key;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Try the next replica.
            }
        }

        return null;
    }

    /// <summary><c>version (1) = 1 | expected epoch (8) | new shard (8) | store count N (4) | N x store (4) | split key (rest)</c>, LE.</summary>
    private static byte[] EncodeArgument(long epoch, ShardId newShard, StoreId[] stores, byte[] key)
    {
        var bytes = new byte[21 + (4 * stores.Length) + key.Length];
        bytes[0] = ArgumentVersion;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), epoch);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(9), newShard.Value);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(17), stores.Length);
        for (int i = 0; i < stores.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(21 + (4 * i)), stores[i].Value);
        }

        key.CopyTo(bytes, 21 + (4 * stores.Length));
        return bytes;
    }

    private static (long Epoch, ShardId NewShard, StoreId[] Stores, byte[] Key) DecodeArgument(byte[] argument)
    {
        if (argument.Length < 21 || argument[0] != ArgumentVersion)
        {
            throw new InvalidDataException("Split operation argument is not a version 1 argument.");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(argument.AsSpan(17));
        if (count <= 0 || count > 64 || argument.Length < 21 + (4 * count) + 1)
        {
            throw new InvalidDataException($"Split operation argument lists {count} stores or has no key.");
        }

        var stores = new StoreId[count];
        for (int i = 0; i < count; i++)
        {
            stores[i] = new StoreId(BinaryPrimitives.ReadInt32LittleEndian(argument.AsSpan(21 + (4 * i))));
        }

        return (BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(1)), new ShardId(BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(9))), stores, argument[(21 + (4 * count))..]);
    }
}
