using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Commands;

/// <summary>The new shard's peer on <paramref name="Store"/> in a <see cref="SplitCommand"/>.</summary>
internal readonly record struct SplitPeer(StoreId Store, ulong PeerId)
{
    public override string ToString() => $"{PeerId}@{Store}";
}
