using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>Copies a shard's committed membership (peers in order, conf version) into the controller's map.</summary>
internal static class MapMirror
{
    /// <summary>
    /// Swaps the map so the shard's entry has <paramref name="committed"/>'s peers and conf version, unless the map is
    /// not behind it (or no longer holds the shard); false when the map changed meanwhile (re-read and retry).
    /// </summary>
    public static async Task<bool> MirrorAsync(IOperationRows rows, ShardDescriptor committed, CancellationToken ct)
    {
        var (map, row) = await rows.ReadMapAsync(ct).ConfigureAwait(true);
        int at = Array.FindIndex(map.Shards, s => s.Id == committed.Id);
        if (at < 0 || map.Shards[at].ConfVersion >= committed.ConfVersion)
        {
            return true;
        }

        var current = map.Shards[at];
        var shards = (ShardDescriptor[])map.Shards.Clone();
        shards[at] = new ShardDescriptor(current.Id, current.Range, current.Epoch, committed.ConfVersion, committed.Peers);
        return await rows.SwapMapAsync(row, map with { Version = map.Version + 1, Shards = shards }, ct).ConfigureAwait(true);
    }
}
