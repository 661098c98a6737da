using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Benchmarks.Common;
using NoKv.Client;
using NoKv.Client.Admin;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The `rereplicate` subcommand (issue 11's "time to re-replicate a store holding 1 GiB, in MB/s, beside the disk's
/// sequential write rate"): 4 local silos, the bootstrap shards on stores 1-3 and store 4 empty, the balancer off so
/// nothing else moves. The shards are loaded with the given amount of user data (every store holds a replica of all
/// of it), store 3 is killed with SIGKILL, and the controller (store-down timeout 5 s) re-replicates every shard it
/// held onto store 4. Reported: when the controller marked the store down, when the first re-replication started,
/// when the last shard was back at three voters without store 3, the user data copied per second over that span, and
/// the disk's own sequential write rate (1 MiB writes then fsync, in the same directory) measured before the cluster
/// starts.
/// </summary>
public static class RereplicationBenchmark
{
    private const int ValueBytes = 16 << 10;
    private const int Shards = 4;
    private static readonly TimeSpan StoreDownAfter = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(20);

    public static async Task<int> RunAsync(bool quick, int? mebibytes, CancellationToken cancellationToken, int loadWriters = 8)
    {
        int mib = mebibytes ?? (quick ? 128 : 1024);
        int keys = (int)((long)mib * 1024 * 1024 / ValueBytes);
        var splitKeys = Enumerable.Range(1, Shards - 1).Select(i => KeyText(keys / Shards * i)).ToArray();

        double diskMBps = await SequentialWriteMBpsAsync(mib, cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"[rereplicate] starting 4 silos ({Shards} shards on stores 1-3, store 4 empty, balancer off)");
        await using var cluster = await NoKvLocalCluster.StartAsync(splitKeys, TimeSpan.FromSeconds(120), Console.Error, cancellationToken,
        [
            "--Controller:StoreDownAfter", StoreDownAfter.ToString("c", CultureInfo.InvariantCulture),
            "--Controller:LeaderBalance", "false",
            "--Controller:ReplicaBalance", "false",
            "--Controller:AutoSplit", "false",
            "--Controller:AutoMerge", "false",
        ], stores: 4).ConfigureAwait(false);

        // NOKV_BENCH_KEEP_DATA=1 keeps the silos' data and logs (snapshot export and install lines) to see where a
        // re-replication's time goes.
        cluster.KeepData = Environment.GetEnvironmentVariable("NOKV_BENCH_KEEP_DATA") == "1";
        await using var target = await NoKvClusterTarget.ConnectAsync(cluster.ClusterId, cluster.Gateways, cluster.Silos.Select(s => s.ProcessId).ToArray(), cancellationToken).ConfigureAwait(false);
        await target.WaitUntilServingAsync(TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(5), Console.Error, cancellationToken).ConfigureAwait(false);
        var store = target.Services.GetRequiredService<IKvStore>();
        var admin = target.Services.GetRequiredService<INoKvAdmin>();

        var value = new byte[ValueBytes];
        new Random(1).NextBytes(value);
        var load = Stopwatch.StartNew();
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, keys), new ParallelOptions { MaxDegreeOfParallelism = loadWriters, CancellationToken = cancellationToken }, async (i, ct) =>
                await store.PutAsync(Encoding.UTF8.GetBytes(KeyText(i)), value, ct).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (NoKvException e)
        {
            // A load that cannot complete is a finding of its own: keep the silos' logs to see why.
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[rereplicate] the load failed after {load.Elapsed.TotalSeconds:F1} s: {e.Message}"));
            cluster.KeepData = true;
            throw;
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[rereplicate] loaded {keys} keys of {ValueBytes} bytes ({mib} MiB) in {load.Elapsed.TotalSeconds:F1} s by {loadWriters} writers"));

        var lost = new StoreId(3);
        var before = (await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false)).Controller;
        int held = before?.Shards.Count(s => s.Id != SystemShards.Controller && s.HasReplicaOn(lost)) ?? 0;
        if (held < Shards)
        {
            // With a 5 s store-down timeout a store slow to send its first heartbeats under load can be marked down at
            // start-up, and its empty replicas re-replicated to store 4 before the load (seen once): killing it then
            // re-replicates nothing, and the run would wait for a re-replication that never starts.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rereplicate: NOT RUN: store 3 holds replicas of {held} of {Shards} shards before the kill (the controller moved them away; see the silos' logs)"));
            cluster.KeepData = true;
            return 1;
        }

        var victim = cluster.Silos.Single(s => s.StoreId == 3);
        long victimDisk = DirectorySize.Of(Path.Combine(cluster.Directory, "store-3"));
        // Memory of the surviving silos from the kill until every shard is whole again (the senders and the receiver
        // of the snapshots): a snapshot held whole in memory on either end shows here.
        var survivors = cluster.Silos.Where(s => s.StoreId != 3).ToArray();
        using var memory = new SiloMemorySampler(survivors.Select(s => s.ProcessId).ToArray());
        var clock = Stopwatch.StartNew();
        await victim.KillAsync().ConfigureAwait(false);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[rereplicate] store 3 killed (its directory holds {victimDisk / 1048576.0:F0} MiB)"));

        double? down = null, firstStarted = null;
        int started = 0;
        var seen = new HashSet<long>();
        double lastReport = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (clock.Elapsed > Deadline)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rereplicate: NOT DONE within {Deadline.TotalMinutes:F0} min (store down at {down?.ToString("F1", CultureInfo.InvariantCulture) ?? "-"} s, {started} re-replications started)"));
                cluster.KeepData = true;
                return 1;
            }

            ControllerView? view = null;
            try
            {
                view = (await admin.GetClusterStatusAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false)).Controller;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The controller may be electing (it had a replica on store 3): ask again.
            }

            double now = clock.Elapsed.TotalSeconds;
            if (view is not null)
            {
                if (down is null && view.Stores.Any(s => s.Id == lost && s.State == StoreState.Down))
                {
                    down = now;
                }

                foreach (var operation in view.Operations.Where(o => o.Kind == OperationKind.ReReplicate && seen.Add(o.Id)))
                {
                    firstStarted ??= now;
                    started++;
                }

                var user = view.Shards.Where(s => s.Id != SystemShards.Controller).ToList();
                bool repaired = user.Count >= Shards && user.All(s => s.Replicas.Length == 3 && !s.HasReplicaOn(lost) && s.Peers.All(p => p.Role == PeerRole.Voter));
                if (repaired && firstStarted is not null && view.Operations.Length == 0)
                {
                    double span = now - firstStarted.Value;
                    double userMB = (double)keys * ValueBytes / 1e6;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"rereplicate {mib} MiB of user data on store 3 ({victimDisk / 1048576.0:F0} MiB on its disk), {user.Count} shards: marked down {down ?? double.NaN:F1} s after the kill, first re-replication at {firstStarted:F1} s ({started} started), all shards back at 3 voters at {now:F1} s"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"rereplicate rate: {userMB / span:F1} MB/s of user data ({span:F1} s from the first re-replication to the last replica promoted; polled every 0.25 s)"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"disk sequential write (1 MiB writes, one fsync at the end, same file system): {diskMBps:F1} MB/s; re-replication = {userMB / span / diskMBps:F2}x the disk"));
                    Console.WriteLine("rereplicate silo memory from the kill to the end (peak VmHWM incl. mapped tables / peak RssAnon sampled every 0.1 s / RssAnon at the kill): " + string.Join(", ",
                        survivors.Select((s, i) => string.Create(CultureInfo.InvariantCulture, $"store {s.StoreId} {memory.PeakResidentBytes(i) / 1048576.0:F0}/{memory.PeakAnonBytes(i) / 1048576.0:F0}/{memory.StartAnonBytes(i) / 1048576.0:F0} MiB"))));
                    return 0;
                }

                if (now - lastReport >= 5)
                {
                    lastReport = now;
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[rereplicate] {now:F0} s: store 3 {view.Stores.FirstOrDefault(s => s.Id == lost)?.State.ToString() ?? "?"}, operations [{string.Join(", ", view.Operations.Select(o => $"{o.Kind} shard {o.Shard} step {o.Step}"))}]"));
                }
            }

            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The disk's sequential write rate where the cluster keeps its data: <paramref name="mib"/> MiB in 1 MiB writes, then one fsync.</summary>
    private static async Task<double> SequentialWriteMBpsAsync(int mib, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("nokv-bench-disk-").FullName;
        var path = Path.Combine(directory, "sequential");
        try
        {
            var block = new byte[1 << 20];
            new Random(2).NextBytes(block);
            var clock = Stopwatch.StartNew();
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                for (int i = 0; i < mib; i++)
                {
                    await file.WriteAsync(block, cancellationToken).ConfigureAwait(false);
                }

                file.Flush(flushToDisk: true);
            }

            return (double)mib * block.Length / 1e6 / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string KeyText(int i) => string.Create(CultureInfo.InvariantCulture, $"key-{i:D8}");
}
