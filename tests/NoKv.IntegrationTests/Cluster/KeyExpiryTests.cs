using System.Text;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>Key expiry through the SDK on an in-process cluster, across a killed leader.</summary>
public sealed class KeyExpiryTests
{
    [Fact]
    public async Task Expiry_set_through_the_sdk_holds_across_a_leader_change_and_expired_keys_are_absent()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var status = await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));

        // Shard 2 is led by store 2 once balanced; store 1 hosts the test cluster's membership, so it stays up.
        var shard = status.Map.Shards[1];
        var leader = TestNoKvCluster.LeaderOf(status, shard.Id)!.Value;
        Assert.NotEqual(new StoreId(1), leader);
        var kv = cluster.Store;
        byte[] Key(string name) => Encoding.UTF8.GetBytes((char)shard.Range.Start[0] + name);
        var session = Key("session");
        var plain = Key("plain");
        var gone = Key("gone");

        await kv.PutAsync(session, "s"u8.ToArray(), TimeSpan.FromMinutes(10));
        await kv.PutAsync(plain, "p"u8.ToArray());
        var read = await kv.GetWithExpiryAsync(session);
        Assert.NotNull(read);
        Assert.InRange(read.TimeToLive!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        var expiresAt = read.ExpiresAt!.Value;
        Assert.Null((await kv.GetWithExpiryAsync(plain))!.ExpiresAt);

        // Expiry changes: conditions judged by the shard, atomically; an absent key reports false.
        Assert.False(await kv.ExpireAsync(plain, TimeSpan.FromMinutes(5), ExpireCondition.IfHasExpiry));
        Assert.True(await kv.ExpireAsync(plain, TimeSpan.FromMinutes(5), ExpireCondition.IfNoExpiry));
        Assert.True(await kv.PersistAsync(plain, ExpireCondition.IfHasExpiry));
        Assert.False(await kv.PersistAsync(plain, ExpireCondition.IfHasExpiry));
        Assert.False(await kv.ExpireAsync(Key("absent"), TimeSpan.FromMinutes(1)));

        // A key that expires soon; the explicit compare-and-swap treats it as absent once expired.
        await kv.PutAsync(gone, "g"u8.ToArray(), new KvWriteOptions { ExpiresAt = DateTimeOffset.UtcNow.AddMilliseconds(1_500) });
        Assert.False(await kv.CompareAndSwapAsync(gone, KvExpected.Absent, "new"u8.ToArray()));

        // The expiry is an absolute time in the replicated command: a new leader serves the same one.
        await cluster.Cluster.KillSiloAsync(cluster.SiloOf(leader));
        var after = await kv.GetWithExpiryAsync(session);
        Assert.Equal(expiresAt, after!.ExpiresAt);
        Assert.Equal("s"u8.ToArray(), after.Value);

        await Eventually.WaitAsync(() => kv.GetAsync(gone), v => v is null, TimeSpan.FromSeconds(20), "the short-lived key to expire");
        Assert.Null(await kv.GetWithExpiryAsync(gone));
        Assert.DoesNotContain(await kv.ScanAsync(Key(""), Key("~"), 100).Select(e => Encoding.UTF8.GetString(e.Key)).ToListAsync(), k => k.EndsWith("gone", StringComparison.Ordinal));
        Assert.True(await kv.CompareAndSwapAsync(gone, KvExpected.Absent, "new"u8.ToArray(), KvWriteOptions.WithTimeToLive(TimeSpan.FromMinutes(1))));
        Assert.Equal("new"u8.ToArray(), (await kv.GetWithExpiryAsync(gone))!.Value);

        // A time to live of zero removes the key, as Redis's EXPIRE 0 does.
        Assert.True(await kv.ExpireAsync(session, TimeSpan.Zero));
        Assert.Null(await kv.GetAsync(session));
    }
}
