namespace NoKv.Replica.Controller.Operations;

/// <summary>Creating an operation row, shared by every way an operation starts.</summary>
public static class OperationRowsExtensions
{
    /// <summary>
    /// Takes the next operation id from the map's allocator with a swap (re-read on a lost race), then creates the row
    /// <paramref name="make"/> builds for it. A crash between the two swaps only wastes an id.
    /// </summary>
    /// <exception cref="InvalidOperationException">The map kept changing, or the id's row exists (the allocator went backwards).</exception>
    public static async Task<OperationRecord> CreateOperationAsync(this IOperationRows rows, Func<long, OperationRecord> make, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var (map, row) = await rows.ReadMapAsync(cancellationToken).ConfigureAwait(true);
            long id = map.NextOperationId;
            if (!await rows.SwapMapAsync(row, map with { Version = map.Version + 1, NextOperationId = id + 1 }, cancellationToken).ConfigureAwait(true))
            {
                if (attempt >= 5)
                {
                    throw new InvalidOperationException("the map kept changing while allocating an operation id");
                }

                continue;
            }

            var record = make(id);
            if (!await rows.SwapOperationAsync(id, null, record, cancellationToken).ConfigureAwait(true))
            {
                throw new InvalidOperationException($"operation {id} exists already; the operation allocator went backwards");
            }

            return record;
        }
    }
}
