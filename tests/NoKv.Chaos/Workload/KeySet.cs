using System.Text;
using NoKv.Abstractions.Sharding;

namespace NoKv.Chaos.Workload;

/// <summary>
/// The run's keys: <c>keysPerShard</c> per shard of the cluster's map, their first bytes spread over each shard's range
/// (the bootstrap layout splits on the first byte). Key i is <c>[first byte] "chaos-k{i}"</c>.
/// </summary>
public sealed class KeySet
{
    private KeySet(byte[][] keys, int[] shardOfKey, long[] shardIds, int epochs = 1)
    {
        Keys = keys;
        ShardOfKey = shardOfKey;
        ShardIds = shardIds;
        Epochs = epochs;
        KeysOfShard = shardIds.Select((_, s) => Enumerable.Range(0, keys.Length).Where(k => shardOfKey[k] == s).ToArray()).ToArray();
        int perEpoch = keys.Length / epochs;
        _keysOfShardInEpoch = Enumerable.Range(0, epochs)
            .Select(e => shardIds.Select((_, s) => KeysOfShard[s].Where(k => k / perEpoch == e).ToArray()).ToArray()).ToArray();
    }

    private readonly int[][][] _keysOfShardInEpoch;

    /// <summary>
    /// Key generations (1 unless made by <see cref="WithEpochs"/>): the workload moves to the next generation's keys
    /// every epoch, so each key's history stays short enough for the linearizability search however long the run.
    /// </summary>
    public int Epochs { get; }

    /// <summary>The keys of shard index <paramref name="shard"/> in generation <paramref name="epoch"/>.</summary>
    public int[] KeysOf(int shard, int epoch) => _keysOfShardInEpoch[Math.Clamp(epoch, 0, Epochs - 1)][shard];

    /// <summary>
    /// <paramref name="epochs"/> generations of this set's keys (same first bytes, so same shards; names
    /// <c>chaos-e{epoch}-k{i}</c>); key index = epoch * (keys per generation) + i.
    /// </summary>
    public KeySet WithEpochs(int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        var keys = new List<byte[]>();
        var shardOf = new List<int>();
        for (int e = 0; e < epochs; e++)
        {
            for (int k = 0; k < Keys.Length; k++)
            {
                keys.Add([Keys[k][0], .. Encoding.ASCII.GetBytes($"chaos-e{e}-k{k}")]);
                shardOf.Add(ShardOfKey[k]);
            }
        }

        return new KeySet(keys.ToArray(), shardOf.ToArray(), ShardIds, epochs);
    }

    public byte[][] Keys { get; }

    /// <summary>Index into <see cref="ShardIds"/> of each key's shard.</summary>
    public int[] ShardOfKey { get; }

    public long[] ShardIds { get; }

    public int[][] KeysOfShard { get; }

    public static KeySet Create(ShardMap map, int keysPerShard)
    {
        var shardIds = map.Shards.Select(s => s.Id.Value).ToArray();
        var candidates = shardIds.Select(_ => new List<byte>()).ToArray();
        for (int b = 0; b < 256; b++)
        {
            long id = map.FindShard([(byte)b, (byte)'c']).Id.Value;
            candidates[Array.IndexOf(shardIds, id)].Add((byte)b);
        }

        var keys = new List<byte[]>();
        var shardOf = new List<int>();
        for (int s = 0; s < shardIds.Length; s++)
        {
            if (candidates[s].Count == 0)
            {
                throw new InvalidOperationException($"shard {shardIds[s]} owns no first byte; the chaos key layout assumes first-byte splits");
            }

            for (int i = 0; i < keysPerShard; i++)
            {
                byte first = candidates[s][i * candidates[s].Count / keysPerShard];
                keys.Add([first, .. Encoding.ASCII.GetBytes($"chaos-k{keys.Count}")]);
                shardOf.Add(s);
            }
        }

        return new KeySet(keys.ToArray(), shardOf.ToArray(), shardIds);
    }

    /// <summary>
    /// For a system without shards (the etcd anchor): <paramref name="groups"/> key groups over equal first-byte ranges,
    /// ids 1..groups, so the workload and its windows have the same shape as NoKV's.
    /// </summary>
    public static KeySet Uniform(int groups, int keysPerShard)
    {
        var keys = new List<byte[]>();
        var shardOf = new List<int>();
        for (int g = 0; g < groups; g++)
        {
            int from = 256 * g / groups, to = 256 * (g + 1) / groups;
            for (int i = 0; i < keysPerShard; i++)
            {
                byte first = (byte)(from + (i * (to - from) / keysPerShard));
                keys.Add([first, .. Encoding.ASCII.GetBytes($"chaos-k{keys.Count}")]);
                shardOf.Add(g);
            }
        }

        return new KeySet(keys.ToArray(), shardOf.ToArray(), Enumerable.Range(1, groups).Select(g => (long)g).ToArray());
    }

    /// <summary>A key of shard index <paramref name="shard"/> that no worker touches (readiness probes).</summary>
    public byte[] ProbeKey(int shard) => [Keys[KeysOfShard[shard][0]][0], .. "chaos-probe"u8];
}
