using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Routing;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Orleans.Runtime;
using Xunit;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>Bad input gets its typed error, from the client before sending and from the replica if sent anyway, and changes nothing.</summary>
public sealed class BadInputTests
{
    [Fact]
    public async Task InvalidKeysValuesAndRangesAreRejectedWithTypedErrorsAndChangeNothing()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var store = cluster.Store;
        await store.PutAsync("existing", "kept");

        await Assert.ThrowsAsync<EmptyKeyException>(() => store.PutAsync(ReadOnlyMemory<byte>.Empty, new byte[] { 1 }));
        await Assert.ThrowsAsync<EmptyKeyException>(() => store.GetAsync(ReadOnlyMemory<byte>.Empty));
        var tooLong = new byte[KvLimits.DefaultMaxKeyBytes + 1];
        tooLong.AsSpan().Fill((byte)'k');
        var keyError = await Assert.ThrowsAsync<KeyTooLargeException>(() => store.PutAsync(tooLong, new byte[] { 1 }));
        Assert.Equal(KvLimits.DefaultMaxKeyBytes, keyError.Limit);
        var valueError = await Assert.ThrowsAsync<ValueTooLargeException>(() => store.PutAsync("existing", new string('v', KvLimits.DefaultMaxValueBytes + 1)));
        Assert.Equal(KvLimits.DefaultMaxValueBytes + 1, valueError.Length);
        await Assert.ThrowsAsync<ValueTooLargeException>(() => store.CompareAndSwapAsync("existing", "kept", new string('v', KvLimits.DefaultMaxValueBytes + 1)));
        await Assert.ThrowsAsync<InvalidRangeException>(async () =>
        {
            await foreach (var unused in store.ScanStringsAsync("b", "a", 10))
            {
            }
        });
        await Assert.ThrowsAsync<InvalidRangeException>(async () =>
        {
            await foreach (var unused in store.ScanStringsAsync("a", "b", 0))
            {
            }
        });

        // A value of exactly the limit is fine.
        await store.PutAsync("max-value", new string('v', KvLimits.DefaultMaxValueBytes));
        Assert.Equal(KvLimits.DefaultMaxValueBytes, (await store.GetStringAsync("max-value"))!.Length);

        // The replica checks again: a request that bypasses the client's validation is refused, not applied.
        var status = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(10));
        var shard = status.Map.FindShard(tooLong);
        var leader = TestNoKvCluster.LeaderOf(status, shard.Id)!.Value;
        var replica = cluster.Cluster.Client.GetGrain<IShardReplicaGrain>(shard.ReplicaOn(leader).ToGrainKey());
        var response = await replica.WriteAsync(new WriteRequest
        {
            Shard = shard.Id, Epoch = shard.Epoch, Kind = WriteKind.Put, Key = tooLong, Value = [1],
            Session = new ClientSession(Guid.NewGuid(), 1),
        });
        Assert.Equal(NoKvErrorCode.KeyTooLarge, response.Code);
        var wrongShard = await replica.WriteAsync(new WriteRequest
        {
            Shard = shard.Id, Epoch = shard.Epoch + 1, Kind = WriteKind.Put, Key = tooLong[..10], Value = [1],
            Session = new ClientSession(Guid.NewGuid(), 1),
        });
        Assert.Equal(NoKvErrorCode.WrongShard, wrongShard.Code);

        // Sent straight to the leader's silo through its store service, the same requests get the same answers,
        // and a store service asked for a replica of a store it does not host refuses with StoreUnavailable.
        var service = cluster.Cluster.Client.GetGrain<IStoreService>(StoreServiceIds.At(SiloAddress.New(cluster.SiloOf(leader).GatewayAddress.Endpoint, 0)));
        Assert.Equal(leader, await service.DescribeAsync());
        var direct = await service.WriteAsync(leader, new WriteRequest
        {
            Shard = shard.Id, Epoch = shard.Epoch, Kind = WriteKind.Put, Key = tooLong, Value = [1],
            Session = new ClientSession(Guid.NewGuid(), 1),
        });
        Assert.Equal(NoKvErrorCode.KeyTooLarge, direct.Code);
        var directWrongShard = await service.GetAsync(leader, new ReadRequest { Shard = shard.Id, Epoch = shard.Epoch + 1, Key = tooLong[..10] });
        Assert.Equal(NoKvErrorCode.WrongShard, directWrongShard.Code);
        var otherStore = shard.Replicas.First(r => r != leader);
        var wrongStore = await Assert.ThrowsAsync<StoreUnavailableException>(() => service.WriteAsync(otherStore, new WriteRequest
        {
            Shard = shard.Id, Epoch = shard.Epoch, Kind = WriteKind.Put, Key = tooLong[..10], Value = [1],
            Session = new ClientSession(Guid.NewGuid(), 1),
        }));
        Assert.Equal(otherStore, wrongStore.Store);

        Assert.Equal("kept", await store.GetStringAsync("existing"));
        Assert.Null(await store.GetAsync(tooLong[..10]));
        var keys = new List<string>();
        await foreach (var pair in store.ScanStringsAsync("", "", 100))
        {
            keys.Add(pair.Key);
        }

        Assert.Equal(["existing", "max-value"], keys);
    }
}
