using NoKv.Abstractions.Requests;
using NoKv.Client.Tests.Fakes;
using Xunit;

namespace NoKv.Client.Tests;

/// <summary>
/// What the SDK's expiry calls send (the leader turns a time to live into an absolute expiry, so the client sends it
/// relative) and what it makes of a read's expiry; and the explicit compare-and-swap, whose absent and empty differ.
/// </summary>
public sealed class KvStoreExpiryTests
{
    private static readonly byte[] Key = "a"u8.ToArray();

    [Fact]
    public async Task Writes_carry_the_time_to_live_relative_an_absolute_expiry_or_keep()
    {
        var client = new FakeClient(FakeShardMapGrain.Map(1, [1, 2, 3]));
        var kv = client.Store;

        await kv.PutAsync(Key, "v"u8.ToArray(), TimeSpan.FromTicks(15_000)); // 1.5 ms: rounded up, never to "now"
        await kv.PutAsync(Key, "v"u8.ToArray(), new KvWriteOptions { ExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(1_234) });
        await kv.PutAsync(Key, "v"u8.ToArray(), new KvWriteOptions { KeepTimeToLive = true });
        await kv.PutAsync(Key, "v"u8.ToArray(), TimeSpan.Zero);
        await kv.ExpireAsync(Key, TimeSpan.FromSeconds(3), ExpireCondition.IfLater);
        await kv.PersistAsync(Key, ExpireCondition.IfHasExpiry);

        var writes = Writes(client);
        Assert.Equal((WriteKind.Put, (long?)2, 0L, false), Shape(writes[0]));
        Assert.Equal((WriteKind.Put, (long?)null, 1_234L, false), Shape(writes[1]));
        Assert.Equal((WriteKind.Put, (long?)null, 0L, true), Shape(writes[2]));
        Assert.Equal((WriteKind.Put, (long?)0, 0L, false), Shape(writes[3]));
        Assert.Equal((WriteKind.Expire, (long?)3_000, 0L, false), Shape(writes[4]));
        Assert.Equal(ExpireCondition.IfLater, writes[4].ExpireCondition);
        Assert.Equal((WriteKind.Expire, (long?)null, 0L, false), Shape(writes[5]));
        Assert.Equal(ExpireCondition.IfHasExpiry, writes[5].ExpireCondition);

        // Conflicting options are refused before anything is sent.
        client.Replicas.ClearCalls();
        await Assert.ThrowsAsync<ArgumentException>(() => kv.PutAsync(Key, "v"u8.ToArray(), new KvWriteOptions { KeepTimeToLive = true, TimeToLive = TimeSpan.FromSeconds(1) }));
        await Assert.ThrowsAsync<ArgumentException>(() => kv.CompareAndSwapAsync(Key, KvExpected.Absent, null, KvWriteOptions.WithTimeToLive(TimeSpan.FromSeconds(1))));
        Assert.Empty(client.Replicas.Calls);
    }

    [Fact]
    public async Task The_explicit_compare_and_swap_tells_absent_from_empty_and_null_from_delete()
    {
        var client = new FakeClient(FakeShardMapGrain.Map(1, [1, 2, 3]));
        var kv = client.Store;
        byte[]? none = null;

        await kv.CompareAndSwapAsync(Key, KvExpected.Of(none), "v"u8.ToArray());
        await kv.CompareAndSwapAsync(Key, KvExpected.Value(ReadOnlyMemory<byte>.Empty), none);
        await kv.CompareAndSwapAsync(Key, KvExpected.Value("v"u8.ToArray()), "w"u8.ToArray(), KvWriteOptions.WithTimeToLive(TimeSpan.FromSeconds(1)));

        var writes = Writes(client);
        Assert.Null(writes[0].Expected);
        Assert.Equal("v"u8.ToArray(), writes[0].Value);
        Assert.Equal([], writes[1].Expected!);
        Assert.Null(writes[1].Value);
        Assert.Equal(1_000L, writes[2].TtlMs);
        Assert.NotEqual(KvExpected.Absent, KvExpected.Value(ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public async Task A_reads_time_to_live_is_measured_on_the_serving_replicas_clock()
    {
        var client = new FakeClient(FakeShardMapGrain.Map(1, [1, 2, 3]));
        client.Replicas.ExpiresAtMs = 1_700_000_010_000;
        client.Replicas.ServedAtMs = 1_700_000_007_500;

        var read = await client.Store.GetWithExpiryAsync(Key);

        Assert.Equal(TimeSpan.FromMilliseconds(2_500), read!.TimeToLive);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_010_000), read.ExpiresAt);
        client.Replicas.ExpiresAtMs = 0;
        Assert.Null((await client.Store.GetWithExpiryAsync(Key))!.TimeToLive);
    }

    private static WriteRequest[] Writes(FakeClient client) =>
        client.Replicas.Calls.Where(c => c.Write is not null).Select(c => c.Write!).ToArray();

    private static (WriteKind, long?, long, bool) Shape(WriteRequest w) => (w.Kind, w.TtlMs, w.ExpiresAtMs, w.KeepExpiry);
}
