using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;
using NoKv.Storage;

namespace NoKv.Replica.Layout;

/// <summary>The replicas a store's engine holds: every group with a replica state row (<see cref="KeySpace.ReplicaStateKey"/>).</summary>
public static class LocalReplicas
{
    /// <summary>
    /// The shards this store holds a replica of, in id order, including those created by splits after bootstrap. One
    /// seek per group, so the cost grows with the number of groups, not with their logs.
    /// </summary>
    public static List<ShardId> List(Database db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var shards = new List<ShardId>();
        using var it = db.NewIterator(new ReadOptions { LowerBound = [KeySpace.GroupPrefix], UpperBound = [KeySpace.GroupPrefix + 1] });
        it.Seek([KeySpace.GroupPrefix]);
        while (it.Valid)
        {
            if (it.Key.Length < 9)
            {
                it.Next();
                continue;
            }

            var shard = new ShardId(BinaryPrimitives.ReadInt64BigEndian(it.Key[1..9]));
            var stateKey = KeySpace.ReplicaStateKey(shard);
            it.Seek(stateKey);
            if (it.Valid && it.Key.SequenceEqual(stateKey))
            {
                shards.Add(shard);
            }

            if (shard.Value == long.MaxValue)
            {
                break;
            }

            it.Seek(KeySpace.GroupRange(new ShardId(shard.Value + 1)).Start);
        }

        return shards;
    }
}
