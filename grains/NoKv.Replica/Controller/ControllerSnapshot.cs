using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller;

/// <summary>
/// Every committed row of the controller, each with its raw bytes (the expected value of the next compare-and-swap
/// on it). Read row by row, not atomically: each decision re-checks its own row by compare-and-swap.
/// </summary>
public sealed record ControllerSnapshot(
    ControllerMap? Map,
    byte[]? MapRow,
    IReadOnlyDictionary<StoreId, (StoreRecord Record, byte[] Row)> Stores,
    IReadOnlyList<OperationRecord> Operations,
    long TimestampHighWater)
{
    /// <summary>Reads every row through <paramref name="group"/> (linearizable reads at the group's leader).</summary>
    /// <exception cref="InvalidDataException">A row this build cannot read.</exception>
    public static async Task<ControllerSnapshot> ReadAsync(ControllerGroupClient group, CancellationToken cancellationToken = default)
    {
        var mapRow = await group.ReadAsync(ControllerRows.Map, cancellationToken).ConfigureAwait(true);
        var (storeStart, storeEnd) = ControllerRows.Stores;
        var stores = new Dictionary<StoreId, (StoreRecord, byte[])>();
        foreach (var entry in await group.ScanAsync(storeStart, storeEnd, cancellationToken).ConfigureAwait(true))
        {
            var record = StoreRecord.Decode(entry.Value);
            stores[record.Id] = (record, entry.Value);
        }

        var (opStart, opEnd) = ControllerRows.Operations;
        var operations = new List<OperationRecord>();
        foreach (var entry in await group.ScanAsync(opStart, opEnd, cancellationToken).ConfigureAwait(true))
        {
            operations.Add(OperationRecord.Decode(entry.Value));
        }

        var tso = await group.ReadAsync(ControllerRows.Timestamps, cancellationToken).ConfigureAwait(true);
        return new ControllerSnapshot(
            mapRow is null ? null : ControllerMap.Decode(mapRow),
            mapRow,
            stores,
            operations,
            tso is null ? 0 : TimestampOracleRow.Decode(tso));
    }
}
