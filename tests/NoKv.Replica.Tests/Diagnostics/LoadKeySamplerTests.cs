using System.Text;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Diagnostics;
using Xunit;

namespace NoKv.Replica.Tests.Diagnostics;

/// <summary>The load sampler's split key halves the requests, not the keys, and is always a legal split point.</summary>
public sealed class LoadKeySamplerTests
{
    private static void AssertNoUsefulCut(byte[]? key)
    {
        Assert.NotNull(key);
        Assert.Empty(key);
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"k{i:D4}");

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void The_split_key_halves_a_skewed_load_where_the_middle_of_the_keys_would_not(ulong seed)
    {
        // 1,000 keys; 90% of 20,000 requests go to keys 0-99. Half the load lies below about key 55, far from the
        // middle of the key space (key 500), where a split would leave nearly all the load on one side.
        var sampler = new LoadKeySampler(seed);
        var random = new Random((int)seed);
        var below = 0;
        for (int i = 0; i < 20_000; i++)
        {
            sampler.Record(Key(random.NextDouble() < 0.9 ? random.Next(100) : 100 + random.Next(900)));
        }

        var split = sampler.TakeSplitKey(KeyRange.All);

        Assert.NotNull(split);
        int at = int.Parse(Encoding.ASCII.GetString(split!)[1..], System.Globalization.CultureInfo.InvariantCulture);
        var replay = new Random((int)seed);
        for (int i = 0; i < 20_000; i++)
        {
            below += (replay.NextDouble() < 0.9 ? replay.Next(100) : 100 + replay.Next(900)) < at ? 1 : 0;
        }

        double share = below / 20_000.0;
        Assert.True(share is > 0.4 and < 0.6, $"a split at key {at} puts {share:P0} of the requests on its left");
    }

    [Fact]
    public void Too_few_requests_give_no_key_and_taking_starts_a_new_sample()
    {
        var sampler = new LoadKeySampler();
        for (int i = 0; i < LoadKeySampler.MinRequests - 1; i++)
        {
            sampler.Record(Key(i));
        }

        Assert.Null(sampler.TakeSplitKey(KeyRange.All));

        for (int i = 0; i < LoadKeySampler.MinRequests; i++)
        {
            sampler.Record(Key(i));
        }

        Assert.NotNull(sampler.TakeSplitKey(KeyRange.All));
        Assert.Null(sampler.TakeSplitKey(KeyRange.All)); // the sample was consumed
    }

    [Fact]
    public void The_key_is_strictly_inside_the_range_never_its_start_nor_outside_it()
    {
        var range = new KeyRange(Key(100), Key(200));
        var sampler = new LoadKeySampler();

        // All the load on the range's first key: no split can divide it.
        for (int i = 0; i < 1000; i++)
        {
            sampler.Record(Key(100));
        }

        AssertNoUsefulCut(sampler.TakeSplitKey(range));

        // Two thirds on the start key, a third after it: the first sampled key after the start.
        for (int i = 0; i < 1200; i++)
        {
            sampler.Record(Key(i % 3 == 0 ? 150 + (i % 7) : 100));
        }

        Assert.Equal(Key(150), sampler.TakeSplitKey(range));

        // Keys outside the range (requests racing a split) are never proposed.
        for (int i = 0; i < 1000; i++)
        {
            sampler.Record(Key(300 + i % 50));
        }

        AssertNoUsefulCut(sampler.TakeSplitKey(range));
    }

    [Fact]
    public void A_load_on_one_key_gives_an_empty_key_since_no_split_would_spread_it()
    {
        // redis-benchmark without -r hits one key: cutting at it moves the load, it does not divide it.
        var sampler = new LoadKeySampler();
        for (int i = 0; i < 5000; i++)
        {
            sampler.Record(i % 20 == 0 ? Key(i % 1000) : Key(500));
        }

        AssertNoUsefulCut(sampler.TakeSplitKey(KeyRange.All));
    }
}
