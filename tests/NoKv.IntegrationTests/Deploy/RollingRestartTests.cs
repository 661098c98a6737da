using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using NoKv.Client;
using NoKv.IntegrationTests.External;
using NoKv.IntegrationTests.Infrastructure;
using Orleans.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Deploy;

/// <summary>
/// deploy/rolling-restart.sh against deploy/local-cluster.sh, under a closed-loop writer: every store is restarted
/// (new pid), one at a time, each only after the cluster is healthy again; writes keep being acknowledged during the
/// roll and every acknowledged write reads back afterwards.
/// </summary>
public sealed class RollingRestartTests(ITestOutputHelper output)
{
    [RequiresJqFact]
    public async Task Rolling_restart_restarts_every_store_one_at_a_time_and_loses_no_acknowledged_write()
    {
        var clock = Stopwatch.StartNew();
        using var cluster = new LocalClusterScript();
        var start = await cluster.RunAsync("local-cluster.sh", "start");
        Assert.True(start.ExitCode == 0, start.Output);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: local cluster started");
        int[] before = [cluster.SiloPid(1), cluster.SiloPid(2), cluster.SiloPid(3)];

        var client = await ProcessClusterClient.ConnectAsync("nokv", c => c.UseStaticClustering(cluster.Gateways), TimeSpan.FromSeconds(30));
        var kv = client.Services.GetRequiredService<IKvStore>();
        var acknowledged = new ConcurrentDictionary<int, bool>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    await kv.PutAsync(Key(i), Value(i), stop.Token);
                    acknowledged[i] = true;
                }
                catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
                {
                    // Not acknowledged: it may or may not have been applied, and is not checked.
                }
            }
        });

        await Eventually.WaitAsync(() => Task.FromResult(acknowledged.Count), n => n >= 20, TimeSpan.FromSeconds(60), "the writer to get going");
        int beforeRoll = acknowledged.Count;
        var roll = await cluster.RunAsync("rolling-restart.sh", ["--timeout", "150", "--", .. cluster.GatewayArguments]);
        output.WriteLine(roll.Output);
        Assert.True(roll.ExitCode == 0, roll.Output);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: roll done");
        int afterRoll = acknowledged.Count;
        await stop.CancelAsync();
        try
        {
            await writer;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The write in flight when the writer was told to stop.
        }

        // One at a time, in order, each waited for.
        var lines = roll.Output.Split('\n');
        int[] restartedAt = [.. Enumerable.Range(1, 3).Select(n => Array.FindIndex(lines, l => l.Contains($"restarting store {n}:", StringComparison.Ordinal)))];
        int[] backAt = [.. Enumerable.Range(1, 3).Select(n => Array.FindIndex(lines, l => l.Contains($"store {n} back; cluster healthy", StringComparison.Ordinal)))];
        Assert.All(restartedAt.Concat(backAt), i => Assert.True(i >= 0, roll.Output));
        Assert.True(restartedAt[0] < backAt[0] && backAt[0] < restartedAt[1] && restartedAt[1] < backAt[1] && backAt[1] < restartedAt[2] && restartedAt[2] < backAt[2], roll.Output);
        for (int n = 1; n <= 3; n++)
        {
            Assert.NotEqual(before[n - 1], cluster.SiloPid(n));
        }

        Assert.True(afterRoll > beforeRoll, $"no write was acknowledged during the roll ({beforeRoll} before, {afterRoll} after)");
        foreach (int i in acknowledged.Keys)
        {
            Assert.Equal(Value(i), await kv.GetAsync(Key(i)));
        }

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: {acknowledged.Count} acknowledged writes ({afterRoll - beforeRoll} during the roll) all read back");
        await client.StopAsync();
        client.Dispose();
    }

    private static byte[] Key(int i) => [(byte)(i * 37 % 251), .. Encoding.UTF8.GetBytes($"roll-{i}")];

    private static byte[] Value(int i) => Encoding.UTF8.GetBytes($"value-{i}");
}
