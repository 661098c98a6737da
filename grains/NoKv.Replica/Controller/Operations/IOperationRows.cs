namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// The controller rows operations read and change, each change a compare-and-swap against the bytes last read
/// (docs/controller.md). Implemented over the controller group (<see cref="ControllerOperationRows"/>) and in memory
/// by tests. A swap that throws may or may not have applied: callers re-read before deciding again.
/// </summary>
public interface IOperationRows
{
    Task<(ControllerMap Map, byte[] Row)> ReadMapAsync(CancellationToken cancellationToken);

    Task<bool> SwapMapAsync(byte[] expected, ControllerMap next, CancellationToken cancellationToken);

    /// <summary>The operation row, or (null, null) when absent.</summary>
    Task<(OperationRecord? Operation, byte[]? Row)> ReadOperationAsync(long id, CancellationToken cancellationToken);

    /// <summary>Every operation row (in id order).</summary>
    Task<IReadOnlyList<OperationRecord>> ListOperationsAsync(CancellationToken cancellationToken);

    /// <summary>Swaps operation <paramref name="id"/>'s row from <paramref name="expected"/> (null: absent) to <paramref name="next"/> (null: delete).</summary>
    Task<bool> SwapOperationAsync(long id, byte[]? expected, OperationRecord? next, CancellationToken cancellationToken);
}
