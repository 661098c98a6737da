using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Layout;

/// <summary>
/// A shard frozen as the source of a merge into <paramref name="Target"/> by the PrepareMerge entry at
/// (<paramref name="PrepareIndex"/>, <paramref name="PrepareTerm"/>) of its log (<see cref="KeySpace.MergeStateKey"/>).
/// </summary>
public readonly record struct MergeState(ShardId Target, ulong PrepareIndex, ulong PrepareTerm)
{
    public override string ToString() => $"merging into shard {Target} (prepared at {PrepareIndex}/{PrepareTerm})";
}
