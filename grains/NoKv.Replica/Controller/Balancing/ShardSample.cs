using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Balancing;

/// <summary>
/// A shard's size and load as its leader last reported them (a store heartbeat), at <see cref="Epoch"/>: figures for an
/// older epoch than the map's describe the shard before a split and are ignored.
/// </summary>
/// <param name="Bytes">Approximate bytes of the shard's data (table metadata estimate), or null if not reported.</param>
/// <param name="RequestsPerSecond">Reads and writes per second the leader served over the last heartbeat interval.</param>
/// <param name="LoadSplitKey">The key that halves the leader's requests over that interval, or null if unknown.</param>
/// <param name="HotKeys">The shard's keys in the stores' hot-key lists (null or empty: none), where a split by load may
/// cut when the leader's key is unknown.</param>
public sealed record ShardSample(ShardId Shard, long Epoch, long? Bytes, double RequestsPerSecond, byte[]? LoadSplitKey = null, IReadOnlyList<HotKeyRate>? HotKeys = null);
