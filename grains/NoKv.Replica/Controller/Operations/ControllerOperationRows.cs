namespace NoKv.Replica.Controller.Operations;

/// <summary>Operation rows over the controller group (<see cref="ControllerGroupClient"/>).</summary>
public sealed class ControllerOperationRows : IOperationRows
{
    private readonly ControllerGroupClient _group;

    public ControllerOperationRows(ControllerGroupClient group) => _group = group;

    public async Task<(ControllerMap Map, byte[] Row)> ReadMapAsync(CancellationToken cancellationToken)
    {
        var row = await _group.ReadAsync(ControllerRows.Map, cancellationToken).ConfigureAwait(true)
            ?? throw new InvalidOperationException("the controller has no shard map yet");
        return (ControllerMap.Decode(row), row);
    }

    public Task<bool> SwapMapAsync(byte[] expected, ControllerMap next, CancellationToken cancellationToken) =>
        _group.CompareAndSwapAsync(ControllerRows.Map, expected, next.Encode(), cancellationToken);

    public async Task<(OperationRecord? Operation, byte[]? Row)> ReadOperationAsync(long id, CancellationToken cancellationToken)
    {
        var row = await _group.ReadAsync(ControllerRows.Operation(id), cancellationToken).ConfigureAwait(true);
        return row is null ? (null, null) : (OperationRecord.Decode(row), row);
    }

    public async Task<IReadOnlyList<OperationRecord>> ListOperationsAsync(CancellationToken cancellationToken)
    {
        var (start, end) = ControllerRows.Operations;
        var operations = new List<OperationRecord>();
        foreach (var entry in await _group.ScanAsync(start, end, cancellationToken).ConfigureAwait(true))
        {
            operations.Add(OperationRecord.Decode(entry.Value));
        }

        return operations;
    }

    public Task<bool> SwapOperationAsync(long id, byte[]? expected, OperationRecord? next, CancellationToken cancellationToken) =>
        _group.CompareAndSwapAsync(ControllerRows.Operation(id), expected, next?.Encode(), cancellationToken);
}
