using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;

namespace NoKv.Replica.Tests.Operations;

/// <summary>Controller rows in memory with compare-and-swap semantics; every swap is a crash point of <see cref="FakeShardGroup"/>.</summary>
internal sealed class InMemoryOperationRows : IOperationRows
{
    private readonly CrashPoints _world;
    private byte[] _map;
    private readonly Dictionary<long, byte[]> _operations = new();

    public InMemoryOperationRows(FakeShardGroup world, ControllerMap map)
        : this(world.Crashes, map)
    {
    }

    public InMemoryOperationRows(CrashPoints crashes, ControllerMap map)
    {
        _world = crashes;
        _map = map.Encode();
    }

    public ControllerMap Map => ControllerMap.Decode(_map);

    public IReadOnlyDictionary<long, byte[]> Operations => _operations;

    public Task<(ControllerMap Map, byte[] Row)> ReadMapAsync(CancellationToken cancellationToken) => Task.FromResult((ControllerMap.Decode(_map), _map));

    public Task<bool> SwapMapAsync(byte[] expected, ControllerMap next, CancellationToken cancellationToken) =>
        Task.FromResult(_world.Effect("swap map", () =>
        {
            if (!expected.AsSpan().SequenceEqual(_map))
            {
                return false;
            }

            _map = next.Encode();
            return true;
        }));

    public Task<(OperationRecord? Operation, byte[]? Row)> ReadOperationAsync(long id, CancellationToken cancellationToken) =>
        Task.FromResult(_operations.TryGetValue(id, out var row) ? (OperationRecord.Decode(row), row) : ((OperationRecord?)null, (byte[]?)null));

    public Task<IReadOnlyList<OperationRecord>> ListOperationsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<OperationRecord>>(_operations.OrderBy(o => o.Key).Select(o => OperationRecord.Decode(o.Value)).ToList());

    public Task<bool> SwapOperationAsync(long id, byte[]? expected, OperationRecord? next, CancellationToken cancellationToken) =>
        Task.FromResult(_world.Effect("swap operation", () =>
        {
            _operations.TryGetValue(id, out var current);
            if (!(current is null ? expected is null : expected is not null && current.AsSpan().SequenceEqual(expected)))
            {
                return false;
            }

            if (next is null)
            {
                _operations.Remove(id);
            }
            else
            {
                _operations[id] = next.Encode();
            }

            return true;
        }));
}
