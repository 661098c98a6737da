using System.Diagnostics;
using System.Text;
using NoKv.Abstractions.Sharding;
using NoKv.IntegrationTests.Infrastructure;
using NoKv.IntegrationTests.Linearizability;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Controller;

/// <summary>Shard merges through the controller on an in-process cluster, under a concurrent workload checked for linearizability.</summary>
public sealed class MergeTests(ITestOutputHelper output)
{
    private static readonly string[] Keys = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];

    [Fact]
    public async Task A_split_shard_merges_back_while_clients_run_and_the_history_stays_linearizable()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2, client: o =>
        {
            o.OperationTimeout = TimeSpan.FromSeconds(8);
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
        });
        await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => SplitTests.RunClientAsync(cluster, c, clock, stop.Token))).ToArray();

        await Task.Delay(800);
        var split = await cluster.Admin.SplitShardAsync(new ShardId(1), Encoding.UTF8.GetBytes("k4"));
        output.WriteLine($"split at {clock.ElapsedMilliseconds} ms: {split.Left}; {split.Right}");
        await Task.Delay(800);

        // The right half merges back into the left while the clients keep writing both.
        var merged = await cluster.Admin.MergeShardsAsync(split.Right.Id, split.Left.Id);
        long mergedAt = clock.ElapsedTicks;
        output.WriteLine($"merged at {clock.ElapsedMilliseconds} ms: {merged.Merged}");
        await Task.Delay(1200);
        stop.Cancel();
        var history = (await Task.WhenAll(clients)).SelectMany(h => h).ToList();

        Assert.Equal(split.Left.Id, merged.Merged.Id);
        Assert.Equal(split.Right.Id, merged.Source);
        Assert.Equal(split.Left.Range.Start, merged.Merged.Range.Start);
        Assert.Equal(split.Right.Range.End, merged.Merged.Range.End);
        Assert.Equal(Math.Max(split.Left.Epoch, split.Right.Epoch) + 1, merged.Merged.Epoch);
        int completed = history.Count(o => !o.IsPending);
        output.WriteLine($"{history.Count} operations, {completed} completed");
        Assert.True(completed > 50, $"only {completed} operations completed");
        Assert.True(history.Any(o => !o.IsPending && o.Invoke > mergedAt && string.CompareOrdinal(o.Key, "k4") >= 0), "no completed operation on the merged-in range after the merge");
        var failure = LinearizabilityChecker.Check(history);
        Assert.True(failure is null, failure);

        // The map no longer holds the source; the merged shard serves the whole range, scans included.
        foreach (var key in Keys)
        {
            await cluster.Store.PutAsync(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes("final-" + key));
        }

        var scanned = new List<string>();
        await foreach (var entry in cluster.Store.ScanAsync(Encoding.UTF8.GetBytes("k"), Encoding.UTF8.GetBytes("l"), 100))
        {
            scanned.Add(Encoding.UTF8.GetString(entry.Key));
        }

        Assert.Equal(Keys, scanned);
        var status = await cluster.WaitForLeadersAsync(TimeSpan.FromSeconds(20), s => s.Map.Shards.All(d => d.Id != split.Right.Id));
        Assert.DoesNotContain(status.Map.Shards, d => d.Id == split.Right.Id);
        Assert.NotNull(TestNoKvCluster.LeaderOf(status, merged.Merged.Id));

        // Not adjacent, or a shard merged away: refused, nothing changes.
        await Assert.ThrowsAsync<ArgumentException>(() => cluster.Admin.MergeShardsAsync(split.Right.Id, split.Left.Id));
    }
}
