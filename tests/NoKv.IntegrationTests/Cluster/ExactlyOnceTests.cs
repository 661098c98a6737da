using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>A write whose reply is lost is retried by the client under the same session sequence and applied once.</summary>
public sealed class ExactlyOnceTests
{
    [Fact]
    public async Task CompareAndSwapChainAppliesEachStepOnceDespiteLostReplies()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var store = cluster.Store;
        await store.PutAsync("counter", "0");

        // Each step swaps n -> n+1. If a retried step were applied twice, the retry would see n+1, fail the
        // comparison and report false; if it were lost, the next step would fail instead.
        for (int n = 0; n < 10; n++)
        {
            if (n % 2 == 0)
            {
                cluster.LostReplies.LoseNextReplies("counter", 1);
            }

            Assert.True(await store.CompareAndSwapAsync("counter", n.ToString(), (n + 1).ToString()), $"step {n} -> {n + 1}");
        }

        Assert.Equal(5, cluster.LostReplies.Lost);
        Assert.Equal("10", await store.GetStringAsync("counter"));

        // An append-style write: every retried put of a distinct value lands exactly once in order.
        cluster.LostReplies.LoseNextReplies("log", 3);
        string log = "";
        for (int i = 0; i < 3; i++)
        {
            string next = log + i;
            Assert.True(await store.CompareAndSwapAsync("log", log.Length == 0 ? null : log, next));
            log = next;
        }

        Assert.Equal("012", await store.GetStringAsync("log"));
    }
}
