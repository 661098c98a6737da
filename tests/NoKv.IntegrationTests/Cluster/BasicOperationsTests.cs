using System.Text;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>Reads and writes through the client against a healthy 3-silo cluster.</summary>
public sealed class BasicOperationsTests
{
    [Fact]
    public async Task PutGetDeleteCasAndScanAcrossShards()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 4);
        var store = cluster.Store;

        await store.PutAsync("alpha", "1");
        Assert.Equal("1", await store.GetStringAsync("alpha"));
        await store.PutAsync("alpha", "2");
        Assert.Equal("2", await store.GetStringAsync("alpha"));

        Assert.False(await store.CompareAndSwapAsync("alpha", "1", "3"));
        Assert.Equal("2", await store.GetStringAsync("alpha"));
        Assert.True(await store.CompareAndSwapAsync("alpha", "2", "3"));
        Assert.Equal("3", await store.GetStringAsync("alpha"));
        Assert.True(await store.CompareAndSwapAsync("fresh", null, "new"));
        Assert.False(await store.CompareAndSwapAsync("fresh", null, "again"));

        await store.DeleteAsync("alpha");
        Assert.Null(await store.GetStringAsync("alpha"));

        // Keys spread over all four shards (split on the first byte at 0x40, 0x80, 0xc0).
        var written = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (char first in new[] { '0', 'A', 'a', '~' })
        {
            for (int i = 0; i < 5; i++)
            {
                string key = $"{first}key{i}";
                await store.PutAsync(key, $"v-{key}");
                written[key] = $"v-{key}";
            }
        }

        written["fresh"] = "new";
        var scanned = new List<KeyValuePair<string, string>>();
        await foreach (var pair in store.ScanStringsAsync("", "", 1000))
        {
            scanned.Add(pair);
        }

        Assert.Equal(written.ToList(), scanned);

        var limited = new List<string>();
        await foreach (var pair in store.ScanStringsAsync("1", "b", 7))
        {
            limited.Add(pair.Key);
        }

        Assert.Equal(written.Keys.Where(k => string.CompareOrdinal(k, "1") >= 0 && string.CompareOrdinal(k, "b") < 0).Take(7), limited);

        // A bounded-staleness read eventually sees the write on whichever replica answers.
        await store.PutAsync("stale", "x");
        await Eventually.WaitAsync(
            () => store.GetStringAsync("stale", KvReadOptions.Stale(TimeSpan.FromSeconds(5))),
            v => v == "x",
            TimeSpan.FromSeconds(10),
            "a stale read to see the write");

        var binaryKey = new byte[] { 0x00, 0xff, 0x10 };
        await store.PutAsync(binaryKey, Encoding.UTF8.GetBytes("bin"));
        Assert.Equal("bin", Encoding.UTF8.GetString((await store.GetAsync(binaryKey))!));
    }
}
