using System.Globalization;

namespace NoKv.Abstractions.Sharding;

/// <summary>
/// One replica of a shard: the pair (shard, store). Its string form "shard/store" is the primary key of the
/// replica grain, which is how the placement director recovers the store that must host it.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.ReplicaId")]
public readonly record struct ReplicaId([property: Id(0)] ShardId Shard, [property: Id(1)] StoreId Store)
{
    /// <summary>The grain key, "shard/store" in invariant decimal.</summary>
    public string ToGrainKey() => string.Create(CultureInfo.InvariantCulture, $"{Shard.Value}/{Store.Value}");

    /// <summary>Parses a grain key written by <see cref="ToGrainKey"/>; false for anything else.</summary>
    public static bool TryParse(ReadOnlySpan<char> key, out ReplicaId replica)
    {
        replica = default;
        int slash = key.IndexOf('/');
        if (slash <= 0 || slash == key.Length - 1)
        {
            return false;
        }

        if (!long.TryParse(key[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out long shard)
            || !int.TryParse(key[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int store)
            || store <= 0)
        {
            return false;
        }

        replica = new ReplicaId(new ShardId(shard), new StoreId(store));
        return true;
    }

    public override string ToString() => ToGrainKey();
}
