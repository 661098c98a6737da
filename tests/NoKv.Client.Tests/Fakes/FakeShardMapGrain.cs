using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Tests.Fakes;

/// <summary>Serves whatever <see cref="Fetch"/> returns and counts the calls.</summary>
internal sealed class FakeShardMapGrain : IShardMapGrain
{
    private int _calls;

    public FakeShardMapGrain(ShardMap map) => Fetch = () => Task.FromResult(map);

    public Func<Task<ShardMap>> Fetch { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public Task<ShardMap> GetShardMapAsync()
    {
        Interlocked.Increment(ref _calls);
        return Fetch();
    }

    /// <summary>The versions callers said they had outgrown (<see cref="IShardMapGrain.GetShardMapAsync(long)"/>).</summary>
    public List<long> NewerThan { get; } = new();

    public Task<ShardMap> GetShardMapAsync(long newerThan)
    {
        lock (NewerThan)
        {
            NewerThan.Add(newerThan);
        }

        return GetShardMapAsync();
    }

    /// <summary>A map with one shard per entry of <paramref name="replicasPerShard"/> (ids 1, 2, ...), split evenly on the first key byte, each with voters on the stores given, in that order (peer ids differ from store ids, as in a real cluster).</summary>
    public static ShardMap Map(long version, params int[][] replicasPerShard)
    {
        var shards = new ShardDescriptor[replicasPerShard.Length];
        for (int i = 0; i < shards.Length; i++)
        {
            byte[] start = i == 0 ? [] : [(byte)(i * 256 / shards.Length)];
            byte[] end = i == shards.Length - 1 ? [] : [(byte)((i + 1) * 256 / shards.Length)];
            var peers = replicasPerShard[i].Select((s, p) => new PeerDescriptor((ulong)((10 * (i + 1)) + p + 1), new StoreId(s), PeerRole.Voter)).ToArray();
            shards[i] = new ShardDescriptor(new ShardId(i + 1), new KeyRange(start, end), 1, 1, peers);
        }

        var stores = replicasPerShard.SelectMany(r => r).Distinct().Order().Select(s => new StoreDescriptor(new StoreId(s), null, true)).ToArray();
        return new ShardMap(version, shards, stores);
    }
}
