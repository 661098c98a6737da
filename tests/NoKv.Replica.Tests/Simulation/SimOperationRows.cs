using NoKv.Abstractions.Controller;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The controller rows the move runner reads and swaps, with the simulation's shard map as the map row: a swap that
/// wins replaces the map the clients route by and the final checks hold the stores to. The controller group itself is
/// not simulated here (its own faults have their own simulation): each read and swap crosses the network, and a lost
/// request or answer throws, so a swap that throws may or may not have applied, as over the real group.
/// </summary>
internal sealed class SimOperationRows : IOperationRows
{
    private const long TimeoutMs = 1_000;
    private readonly ReplicaSimulation _sim;
    private readonly SortedDictionary<long, byte[]> _operations = new();
    private long _version = 1;
    private long _nextOperation = 1;

    // Far above the shard ids the splitter hands out.
    private long _nextShard = 1_000_000;

    // Far above the peer ids the splitter hands out, so allocations never collide with them.
    private ulong _nextPeer = 1UL << 40;

    public SimOperationRows(ReplicaSimulation sim) => _sim = sim;

    /// <summary>Operations recorded and not finished.</summary>
    public int InProgress => _operations.Count;

    private ControllerMap Current => new(_version, _nextShard, _nextPeer, _nextOperation, _sim.Map.ToArray());

    public async Task<(ControllerMap Map, byte[] Row)> ReadMapAsync(CancellationToken cancellationToken)
    {
        await RequestAsync(cancellationToken);
        var map = Current;
        var row = map.Encode();
        await AnswerAsync(cancellationToken);
        return (map, row);
    }

    public async Task<bool> SwapMapAsync(byte[] expected, ControllerMap next, CancellationToken cancellationToken)
    {
        await RequestAsync(cancellationToken);
        bool swapped = expected.AsSpan().SequenceEqual(Current.Encode());
        if (swapped)
        {
            _version = next.Version;
            _nextPeer = next.NextPeerId;
            _nextShard = next.NextShardId;
            _nextOperation = next.NextOperationId;
            _sim.ReplaceMap(next.Shards);
        }

        await AnswerAsync(cancellationToken);
        return swapped;
    }

    public async Task<(OperationRecord? Operation, byte[]? Row)> ReadOperationAsync(long id, CancellationToken cancellationToken)
    {
        await RequestAsync(cancellationToken);
        var found = _operations.TryGetValue(id, out var row) ? (OperationRecord.Decode(row), row) : ((OperationRecord?)null, (byte[]?)null);
        await AnswerAsync(cancellationToken);
        return found;
    }

    public async Task<IReadOnlyList<OperationRecord>> ListOperationsAsync(CancellationToken cancellationToken)
    {
        await RequestAsync(cancellationToken);
        var list = _operations.Values.Select(row => OperationRecord.Decode(row)).ToList();
        await AnswerAsync(cancellationToken);
        return list;
    }

    public async Task<bool> SwapOperationAsync(long id, byte[]? expected, OperationRecord? next, CancellationToken cancellationToken)
    {
        await RequestAsync(cancellationToken);
        _operations.TryGetValue(id, out var current);
        bool swapped = current is null ? expected is null : expected is not null && current.AsSpan().SequenceEqual(expected);
        if (swapped && next is null)
        {
            _operations.Remove(id);
            _sim.Trace($"operation {id}: {Describe(current)} -> finished");
        }
        else if (swapped)
        {
            _operations[id] = next!.Encode();
            _sim.Trace($"operation {id}: {Describe(current)} -> {Describe(next)}");
        }

        await AnswerAsync(cancellationToken);
        return swapped;
    }

    private static string Describe(byte[]? row) => row is null ? "(none)" : Describe(OperationRecord.Decode(row));

    private static string Describe(OperationRecord op) => op.Kind switch
    {
        OperationKind.Merge => $"{op.Kind} {(MergeOperationStep)op.Step}",
        OperationKind.Split => $"{op.Kind} step {op.Step}",
        _ => $"{op.Kind} {(MoveStep)op.Step}",
    };

    private async Task RequestAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await _sim.Delay(1 + _sim.Random.Next(_sim.Options.MaxDelayMs));
        if (_sim.Network.Faulty && _sim.Random.NextDouble() < _sim.Options.DropRate)
        {
            await _sim.Delay(TimeoutMs);
            throw new TimeoutException("the controller group did not answer (request lost)");
        }

        // A controller that died meanwhile sends nothing more.
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task AnswerAsync(CancellationToken cancellationToken)
    {
        await _sim.Delay(1 + _sim.Random.Next(_sim.Options.MaxDelayMs));
        if (_sim.Network.Faulty && _sim.Random.NextDouble() < _sim.Options.DropRate)
        {
            await _sim.Delay(TimeoutMs);
            throw new TimeoutException("the controller group's answer was lost");
        }

        cancellationToken.ThrowIfCancellationRequested();
    }
}
