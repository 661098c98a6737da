using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using NoKv.Abstractions.Errors;
using NoKv.Benchmarks.Common;
using NoKv.Benchmarks.Storage;
using NoKv.Client;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// `cluster --txn`: transfers between accounts spread over every shard of 3 local silos (docs/transactions.md), as
/// explicit transactions (read k balances, write k balances) at 2 and 8 keys and concurrency 16 and 64, with
/// single-key plain writes for reference, and a contention curve (2-key transfers at c64, zipfian account choice,
/// theta 0.5 to 1.2); with --etcd, the same 2-key transfers as etcd's Txn (read both keys, then
/// one Txn that compares both values and writes both). Reports committed transactions/s, p50/p99 latency of a
/// committed transfer (including its reruns) and the abort rate (aborted attempts / attempts). With etcd, both clusters
/// stay up and each point both run is measured in alternating slices (<see cref="InterleaveAsync"/>), unless
/// --sequential.
/// </summary>
public static class TxnBenchmark
{
    private static readonly int[] Concurrencies = [16, 64];

    // The contention curve: 2-key transfers at c64 with zipfian account choice, from mild skew to a few very hot keys.
    private static readonly double[] Thetas = [0.5, 0.8, 0.99, 1.2];

    public static async Task<int> RunAsync(ClusterBenchmarkOptions options, CancellationToken cancellationToken)
    {
        var duration = options.Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(8);
        int accounts = options.Quick ? 1_000 : 10_000;
        var results = new List<(string System, string Key, double TxnPerSec, double P50, double P99, double AbortRate)>();
        var only = options.Mixes?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var uniform = AccountChooser.Uniform(accounts);
        var skewed = Thetas.Select(theta => AccountChooser.Zipfian(accounts, theta)).ToArray();
        var points = new List<(string Name, int Keys, int Concurrency, AccountChooser Accounts)>();
        foreach (int keys in new[] { 2, 8 })
        {
            points.AddRange(Concurrencies.Select(c => ($"{keys}key/c{c}", keys, c, uniform)));
        }

        points.AddRange(skewed.Select(chooser => (CurvePoint(chooser), 2, 64, chooser)));
        points.Add(("write/c64", 0, 64, uniform));
        points.RemoveAll(p => only is not null && !only.Contains(p.Name));
        bool etcdToo = options.Etcd || options.EtcdEndpoints is not null;
        bool interleave = etcdToo && !options.Sequential;
        var splitKeys = ClusterBenchmark.SplitKeys(accounts, options.Shards);
        Console.Error.WriteLine($"[txn] {accounts:N0} accounts, {options.Shards} shard(s), {duration.TotalSeconds:F0} s per point{(interleave ? ", the two systems' slices interleaved" : string.Empty)}");
        await using (var cluster = await NoKvLocalCluster.StartAsync(splitKeys, TimeSpan.FromSeconds(120), Console.Error, cancellationToken).ConfigureAwait(false))
        {
            // NOKV_BENCH_TXN_SECONDARY_BATCHING=0 sends every secondary commit alone (for an A/B of the batching).
            bool batchSecondaries = Environment.GetEnvironmentVariable("NOKV_BENCH_TXN_SECONDARY_BATCHING") != "0";
            Console.Error.WriteLine($"[txn] secondary commits batched per shard: {batchSecondaries}");

            // NOKV_BENCH_TXN_PRIMARY_ONE_PHASE=0 prewrites every shard and takes the commit timestamp from the oracle (the
            // classic order) instead of committing the primary's shard in one phase (for an A/B in one build).
            bool primaryOnePhase = Environment.GetEnvironmentVariable("NOKV_BENCH_TXN_PRIMARY_ONE_PHASE") != "0";
            Console.Error.WriteLine($"[txn] primary's shard committed in one phase: {primaryOnePhase}");
            await using var target = await NoKvClusterTarget.ConnectAsync(cluster.ClusterId, cluster.Gateways, cluster.Silos.Select(s => s.ProcessId).ToArray(), cancellationToken, o =>
            {
                o.BatchSecondaryCommits = batchSecondaries;
                o.CommitPrimaryInOnePhase = primaryOnePhase;
            }).ConfigureAwait(false);
            await target.WaitUntilServingAsync(TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(15), Console.Error, cancellationToken).ConfigureAwait(false);
            var kv = target.Services.GetRequiredService<IKvStore>();
            var value = Encoding.ASCII.GetBytes("100");
            var nokv = new TxnSystem(
                "nokv",
                cluster.Silos.Select(s => s.ProcessId).ToArray(),
                new HashSet<int> { 2, 8 },
                (random, chooser, keys) => NoKvTransferAsync(kv, random, chooser, keys, cancellationToken),
                async random =>
                {
                    await kv.PutAsync(Key(random.Next(accounts)), value, cancellationToken).ConfigureAwait(false);
                    return 0;
                },
                () => RaftCounters.ReadAsync(cluster.HttpPorts, cancellationToken),
                Phases);
            await PreloadAsync((k, v) => kv.PutAsync(k, v, cancellationToken), accounts).ConfigureAwait(false);
            await WarmUpAsync(nokv, uniform, options.Quick).ConfigureAwait(false);
            if (!interleave)
            {
                await RunPointsAsync(nokv, null, points, duration, options.Quick, results).ConfigureAwait(false);
            }
            else
            {
                // Both clusters up: each system's slices alternate with the other's, so a change in the machine's
                // other load during the run reaches both systems alike (TxnBenchmark's summary).
                var (local, etcd, etcdSystem) = await StartEtcdAsync(options, accounts, uniform, cancellationToken).ConfigureAwait(false);
                try
                {
                    await RunPointsAsync(nokv, etcdSystem, points, duration, options.Quick, results).ConfigureAwait(false);
                }
                finally
                {
                    await StopEtcdAsync(local, etcd).ConfigureAwait(false);
                }
            }
        }

        if (etcdToo && !interleave)
        {
            var (local, etcd, etcdSystem) = await StartEtcdAsync(options, accounts, uniform, cancellationToken).ConfigureAwait(false);
            try
            {
                await RunPointsAsync(etcdSystem, null, points, duration, options.Quick, results).ConfigureAwait(false);
            }
            finally
            {
                await StopEtcdAsync(local, etcd).ConfigureAwait(false);
            }
        }

        foreach (var point in new[] { "2key/c16", "2key/c64" }.Concat(skewed.Select(CurvePoint)))
        {
            var nokv2 = results.Find(r => r.System == "nokv" && r.Key == point);
            var etcd2 = results.Find(r => r.System == "etcd" && r.Key == point);
            if (nokv2.System is not null && etcd2.System is not null)
            {
                string target = point == "2key/c64" ? " (target >= 1.00x)" : string.Empty;
                string p99Target = point == "2key/c64" ? "; target <= 1.00x" : string.Empty;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"nokv/etcd {point}: throughput {nokv2.TxnPerSec / etcd2.TxnPerSec:F2}x{target}, p99 {nokv2.P99 / etcd2.P99:F2}x ({nokv2.P99:F2} ms vs {etcd2.P99:F2} ms{p99Target}), aborts {nokv2.AbortRate * 100:F1}% vs {etcd2.AbortRate * 100:F1}%"));
            }
        }

        if (options.JsonPath is not null)
        {
            var txn = new JsonObject();
            foreach (var r in results)
            {
                if (txn[r.System] is not JsonObject system)
                {
                    txn[r.System] = system = new JsonObject();
                }

                system[r.Key] = new JsonObject
                {
                    ["txn_per_sec"] = Math.Round(r.TxnPerSec, 1),
                    ["p50_ms"] = Math.Round(r.P50, 3),
                    ["p99_ms"] = Math.Round(r.P99, 3),
                    ["abort_rate"] = Math.Round(r.AbortRate, 4),
                };
            }

            File.WriteAllText(options.JsonPath, new JsonObject { ["txn"] = txn }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }

        return 0;
    }

    /// <summary>Starts etcd's side (a local 3-member cluster unless endpoints were given), loads the accounts and warms it up.</summary>
    private static async Task<(EtcdLocalCluster? Local, EtcdClient Client, TxnSystem System)> StartEtcdAsync(ClusterBenchmarkOptions options, int accounts, AccountChooser uniform, CancellationToken cancellationToken)
    {
        EtcdLocalCluster? local = options.EtcdEndpoints is null ? await EtcdLocalCluster.StartAsync(cancellationToken).ConfigureAwait(false) : null;
        EtcdClient? etcd = null;
        try
        {
            etcd = new EtcdClient(options.EtcdEndpoints ?? local!.Endpoints, configureChannelOptions: o =>
                o.HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan });
            var client = etcd;
            var value = ByteString.CopyFrom(Encoding.ASCII.GetBytes("100"));
            var system = new TxnSystem(
                "etcd",
                local?.ProcessIds ?? [],
                new HashSet<int> { 2 },
                (random, chooser, keys) => EtcdTransferAsync(client, random, chooser, keys, cancellationToken),
                async random =>
                {
                    await client.PutAsync(new PutRequest { Key = ByteString.CopyFrom(Key(random.Next(accounts))), Value = value }, cancellationToken: cancellationToken).ConfigureAwait(false);
                    return 0;
                },
                null,
                null);
            await PreloadAsync(async (k, v) => await client.PutAsync(new PutRequest { Key = ByteString.CopyFrom(k.Span), Value = ByteString.CopyFrom(v.Span) }, cancellationToken: cancellationToken).ConfigureAwait(false), accounts).ConfigureAwait(false);
            await WarmUpAsync(system, uniform, options.Quick).ConfigureAwait(false);
            return (local, etcd, system);
        }
        catch
        {
            await StopEtcdAsync(local, etcd).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task StopEtcdAsync(EtcdLocalCluster? local, EtcdClient? client)
    {
        client?.Dispose();
        if (local is not null)
        {
            await local.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs the points. A point both systems run is measured interleaved when <paramref name="partner"/> is given
    /// (<see cref="InterleaveAsync"/>); a point only one runs is one slice of <paramref name="duration"/>, the other
    /// system idle beside it (its servers' CPU printed).
    /// </summary>
    private static async Task RunPointsAsync(TxnSystem system, TxnSystem? partner, IReadOnlyList<(string Name, int Keys, int Concurrency, AccountChooser Accounts)> points, TimeSpan duration, bool quick, List<(string System, string Key, double TxnPerSec, double P50, double P99, double AbortRate)> results)
    {
        bool Runs(TxnSystem s, int keys) => keys == 0 || s.TransferSizes.Contains(keys);
        bool warmedTogether = false;
        foreach (var point in points)
        {
            Func<Random, Task<int>> Op(TxnSystem s) => point.Keys == 0 ? s.Write : random => s.Transfer(random, point.Accounts, point.Keys);
            if (partner is not null && Runs(system, point.Keys) && Runs(partner, point.Keys))
            {
                if (!warmedTogether)
                {
                    // One unmeasured slice each first: the system that warmed up first has been idle (groups asleep,
                    // connections quiet) during the other's warm-up; neither system's first measured slice should pay for that.
                    warmedTogether = true;
                    var again = TimeSpan.FromSeconds(quick ? 1 : 2);
                    await MeasureSliceAsync(random => system.Transfer(random, point.Accounts, 2), 64, again, seed: -1).ConfigureAwait(false);
                    await MeasureSliceAsync(random => partner.Transfer(random, point.Accounts, 2), 64, again, seed: -1).ConfigureAwait(false);
                }

                // The target point gets more pairs: its ratio is the one the issue judges.
                int pairs = quick ? 3 : point.Name == "2key/c64" ? 6 : 2;
                var slice = quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(4);
                await InterleaveAsync(point.Name, point.Keys, system, Op(system), partner, Op(partner), point.Concurrency, pairs, slice, results).ConfigureAwait(false);
            }
            else if (Runs(system, point.Keys))
            {
                await SoleAsync(point.Name, point.Keys, system, Op(system), partner, point.Concurrency, duration, results).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One point of one system, one slice long; the other system's servers (if up) idle beside it.</summary>
    private static async Task SoleAsync(string point, int keys, TxnSystem system, Func<Random, Task<int>> op, TxnSystem? idle, int concurrency, TimeSpan duration, List<(string System, string Key, double TxnPerSec, double P50, double P99, double AbortRate)> results)
    {
        system.Phases?.Reset();
        var tally = new TxnTally { ServersKnown = system.Servers.Count > 0 };
        var raftBefore = system.ReadRaftCounters is null ? default : await system.ReadRaftCounters().ConfigureAwait(false);
        tally.Add(await MeasureSliceAsync(op, concurrency, duration, system.Servers, idle?.Servers, seed: 0, Settle(duration)).ConfigureAwait(false));
        var raftAfter = system.ReadRaftCounters is null ? default : await system.ReadRaftCounters().ConfigureAwait(false);
        Report(point, keys, system, tally, RaftCounters.Difference(raftBefore, raftAfter), results);
        if (idle is { Servers.Count: > 0 })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    idle {idle.Name} servers meanwhile: {tally.IdlePercentOfCore:F1}% of one core"));
        }
    }

    /// <summary>
    /// One point of both systems, measured in <paramref name="pairs"/> pairs of slices that alternate between them, the
    /// order reversed every other pair (a b, b a, a b, ...) so that a steady drift of the machine's other load falls on
    /// both alike. On the shared 2-core machine this is what makes the ratio mean something: measured minutes apart,
    /// one system's rate moved by ±40% between runs (docs/transactions.md, "Performance"). Prints each system's
    /// figures over all its slices, then the ratio of each pair, the ratio of the totals, and the CPU the idle system's
    /// servers took while the other was measured.
    /// </summary>
    private static async Task InterleaveAsync(string point, int keys, TxnSystem a, Func<Random, Task<int>> aOp, TxnSystem b, Func<Random, Task<int>> bOp, int concurrency, int pairs, TimeSpan slice, List<(string System, string Key, double TxnPerSec, double P50, double P99, double AbortRate)> results)
    {
        a.Phases?.Reset();
        b.Phases?.Reset();
        var aTally = new TxnTally { ServersKnown = a.Servers.Count > 0 };
        var bTally = new TxnTally { ServersKnown = b.Servers.Count > 0 };
        var aRaft = default(RaftCounters) with { Complete = true };
        var bRaft = aRaft;
        string loadBefore = IdleCpu.LoadAverage();
        for (int pair = 0; pair < pairs; pair++)
        {
            foreach (bool first in pair % 2 == 0 ? new[] { true, false } : [false, true])
            {
                var (system, op, other, tally) = first ? (a, aOp, b, aTally) : (b, bOp, a, bTally);
                var raftBefore = system.ReadRaftCounters is null ? default : await system.ReadRaftCounters().ConfigureAwait(false);
                tally.Add(await MeasureSliceAsync(op, concurrency, slice, system.Servers, other.Servers, seed: pair, Settle(slice)).ConfigureAwait(false));
                if (system.ReadRaftCounters is not null)
                {
                    var raftAfter = await system.ReadRaftCounters().ConfigureAwait(false);
                    if (first)
                    {
                        aRaft += RaftCounters.Difference(raftBefore, raftAfter);
                    }
                    else
                    {
                        bRaft += RaftCounters.Difference(raftBefore, raftAfter);
                    }
                }
            }
        }

        Report(point, keys, a, aTally, aRaft, results);
        Report(point, keys, b, bTally, bRaft, results);
        var ratios = aTally.Slices.Zip(bTally.Slices, (x, y) => (x.Committed / x.Elapsed.TotalSeconds / (y.Committed / y.Elapsed.TotalSeconds)).ToString("F2", CultureInfo.InvariantCulture) + "x");
        string idle = string.Join(", ", new[] { (b, aTally), (a, bTally) }.Where(t => t.Item1.Servers.Count > 0).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Item1.Name} {t.Item2.IdlePercentOfCore:F1}%")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    {a.Name}/{b.Name} {point} interleaved, {pairs} pairs of {slice.TotalSeconds:F0} s: per pair {string.Join(" ", ratios)}; totals {aTally.Committed:N0} vs {bTally.Committed:N0} = {aTally.PerSecond / bTally.PerSecond:F2}x; idle servers' cpu while the other ran: {(idle.Length > 0 ? idle : "n/a")} of one core; load average {loadBefore} -> {IdleCpu.LoadAverage()}"));
    }

    /// <summary>The pause after a measured slice (<see cref="MeasureSliceAsync"/>): a quarter of the slice, at most 1 s.</summary>
    private static TimeSpan Settle(TimeSpan slice) => TimeSpan.FromTicks(Math.Min(slice.Ticks / 4, TimeSpan.TicksPerSecond));

    /// <summary>Prints one system's figures at one point (as before the interleaving) and records them.</summary>
    private static void Report(string point, int keys, TxnSystem system, TxnTally tally, RaftCounters raft, List<(string System, string Key, double TxnPerSec, double P50, double P99, double AbortRate)> results)
    {
        results.Add((system.Name, point, tally.PerSecond, tally.P50, tally.P99, keys == 0 ? 0 : tally.AbortRate));
        Print(results[^1]);
        if (keys > 0 && system.Phases is not null && !point.Contains("zipf", StringComparison.Ordinal))
        {
            Console.WriteLine($"    {system.Phases}");
        }

        if (!point.Contains("zipf", StringComparison.Ordinal))
        {
            Console.WriteLine($"    {tally.CpuLine()}");
            if (system.ReadRaftCounters is not null)
            {
                Console.WriteLine($"    {RaftCounters.PerOperation(raft, tally.Committed)}");
            }
        }
    }

    private static void Print((string System, string Key, double TxnPerSec, double P50, double P99, double AbortRate) r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"txn {r.System,-5} {r.Key,-19} {r.TxnPerSec,10:N0} txn/s  p50 {r.P50,7:F2} ms  p99 {r.P99,7:F2} ms  aborts {r.AbortRate * 100,5:F1}%"));

    private static byte[] Key(long account)
    {
        var key = new byte[KeyValueFormat.KeySize];
        KeyValueFormat.WriteKey(account, key);
        return key;
    }

    private static async Task PreloadAsync(Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>, Task> put, int accounts)
    {
        var value = Encoding.ASCII.GetBytes("100");
        int next = -1;
        var loaders = Enumerable.Range(0, 32).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < accounts)
            {
                await put(Key(i), value).ConfigureAwait(false);
            }
        });
        await Task.WhenAll(loaders).ConfigureAwait(false);
    }

    private static readonly TxnPhaseTimes Phases = new();

    private static string CurvePoint(AccountChooser chooser) => string.Create(CultureInfo.InvariantCulture, $"2key/c64/zipf{chooser.Theta:0.00}");

    /// <summary>One committed transfer among <paramref name="keys"/> accounts; returns the aborted attempts it took.</summary>
    private static async Task<int> NoKvTransferAsync(IKvStore kv, Random random, AccountChooser accounts, int keys, CancellationToken cancellationToken)
    {
        var picked = accounts.Pick(random, keys);
        for (int aborts = 0; ; aborts++)
        {
            long began = Stopwatch.GetTimestamp();
            await using var tx = await kv.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            long read = Stopwatch.GetTimestamp();
            try
            {
                // The reads of one transfer go out together (one round instead of one per account).
                var accountKeys = new ReadOnlyMemory<byte>[keys];
                for (int i = 0; i < keys; i++)
                {
                    accountKeys[i] = Key(picked[i]);
                }

                var values = await tx.GetManyAsync(accountKeys, cancellationToken).ConfigureAwait(false);
                var balances = new long[keys];
                for (int i = 0; i < keys; i++)
                {
                    balances[i] = long.Parse(Encoding.ASCII.GetString(values[i]!), CultureInfo.InvariantCulture);
                }

                long committing = Stopwatch.GetTimestamp();

                // Move one unit from the first account to each of the others.
                for (int i = 0; i < keys; i++)
                {
                    long delta = i == 0 ? -(keys - 1) : 1;
                    tx.Put(Key(picked[i]), Encoding.ASCII.GetBytes((balances[i] + delta).ToString(CultureInfo.InvariantCulture)));
                }

                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                Phases.Record(read - began, committing - read, Stopwatch.GetTimestamp() - committing);
                return aborts;
            }
            catch (NoKvException e) when (e is TransactionConflictException or TransactionAbortedException || e.Code == NoKvErrorCode.SnapshotTooOld)
            {
                // SnapshotTooOld: rerun at a new start timestamp, as TransactAsync does (a shard whose preload writes
                // could not wait for the oracle on a loaded machine is anchored by the first transaction that meets it).
                await Task.Delay(random.Next(1, 5), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>etcd's 2-key transfer: read both (at once), then one Txn comparing both values and writing both.</summary>
    private static async Task<int> EtcdTransferAsync(EtcdClient etcd, Random random, AccountChooser accounts, int keys, CancellationToken cancellationToken)
    {
        var picked = accounts.Pick(random, keys);
        for (int aborts = 0; ; aborts++)
        {
            var txn = new TxnRequest();

            // Both reads at once, as NoKV's transfer does them (GetManyAsync).
            var reads = new Task<RangeResponse>[keys];
            for (int i = 0; i < keys; i++)
            {
                reads[i] = etcd.GetAsync(new RangeRequest { Key = ByteString.CopyFrom(Key(picked[i])) }, cancellationToken: cancellationToken);
            }

            await Task.WhenAll(reads).ConfigureAwait(false);
            for (int i = 0; i < keys; i++)
            {
                var key = ByteString.CopyFrom(Key(picked[i]));
                var read = await reads[i].ConfigureAwait(false);
                var current = read.Kvs[0].Value;
                long balance = long.Parse(current.ToStringUtf8(), CultureInfo.InvariantCulture);
                txn.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = current });
                long delta = i == 0 ? -(keys - 1) : 1;
                txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFromUtf8((balance + delta).ToString(CultureInfo.InvariantCulture)) } });
            }

            var response = await etcd.TransactionAsync(txn, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (response.Succeeded)
            {
                return aborts;
            }
        }
    }

    /// <summary>
    /// Runs 2-key transfers at c64 in slices, for both systems alike: at least 24 s (3 s with --quick), then until a
    /// slice is no more than 10% above the best before it (at most 48 s). Fresh silos run partly on tier-0 code: .NET's
    /// background JIT (tiered compilation, with dynamic PGO) was measured taking about half of the silos' CPU in the
    /// first seconds of load and the rate rising about threefold over the first 20-30 s (docs/transactions.md, "Session
    /// of 12-07"); a point measured before that reports the JIT, not the transaction path. The rates go to stderr.
    /// </summary>
    private static async Task WarmUpAsync(TxnSystem system, AccountChooser accounts, bool quick)
    {
        var slice = TimeSpan.FromSeconds(quick ? 1 : 4);
        int minSlices = quick ? 3 : 6, maxSlices = quick ? 3 : 12;
        var rates = new List<double>();
        double best = 0;
        for (int i = 0; i < maxSlices; i++)
        {
            var r = await MeasureSliceAsync(random => system.Transfer(random, accounts, 2), 64, slice, seed: -2 - i).ConfigureAwait(false);
            double rate = r.Committed / r.Elapsed.TotalSeconds;
            rates.Add(rate);
            if (rates.Count >= minSlices && rate <= best * 1.1)
            {
                break;
            }

            best = Math.Max(best, rate);
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[txn] {system.Name} warm-up, 2key/c64 in {slice.TotalSeconds:F0} s slices: {string.Join(", ", rates.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))} txn/s"));
    }

    /// <summary>
    /// <paramref name="concurrency"/> closed-loop workers running <paramref name="op"/> for <paramref name="duration"/>.
    /// <paramref name="seed"/> varies the workers' account choices from slice to slice. The servers' and client's CPU
    /// include a pause of <paramref name="settle"/> after the last operation (none for the warm-up, which measures none).
    /// </summary>
    private static async Task<TxnSlice> MeasureSliceAsync(Func<Random, Task<int>> op, int concurrency, TimeSpan duration, IReadOnlyList<int>? servers = null, IReadOnlyList<int>? idleServers = null, int seed = 0, TimeSpan settle = default)
    {
        servers ??= [];
        idleServers ??= [];
        var serverCpuBefore = ProcessCpu.Total(servers);
        var idleCpuBefore = ProcessCpu.Total(idleServers);
        var clientCpuBefore = ProcessCpu.Self();
        var histograms = new LatencyHistogram[concurrency];
        long committed = 0, aborted = 0;
        var start = Stopwatch.GetTimestamp();
        long end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = new Task[concurrency];
        for (int c = 0; c < concurrency; c++)
        {
            var histogram = histograms[c] = new LatencyHistogram();
            var random = new Random(c * 7919 + 17 + seed * 1_000_003);
            workers[c] = Task.Run(async () =>
            {
                while (Stopwatch.GetTimestamp() < end)
                {
                    long before = Stopwatch.GetTimestamp();
                    int aborts = await op(random).ConfigureAwait(false);
                    histogram.Record((long)(Stopwatch.GetElapsedTime(before).TotalMilliseconds * 1e6));
                    Interlocked.Increment(ref committed);
                    Interlocked.Add(ref aborted, aborts);
                }
            });
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var idleCpu = ProcessCpu.Total(idleServers) - idleCpuBefore;

        // The work an operation leaves behind (NoKV's secondary commits go out after CommitAsync returns) is its cost
        // too, and must not land in the next slice, which may be the other system's: the servers' and the client's
        // CPU are read after a pause in which nothing new starts.
        await Task.Delay(settle).ConfigureAwait(false);
        var serverCpu = ProcessCpu.Total(servers) - serverCpuBefore;
        var clientCpu = ProcessCpu.Self() - clientCpuBefore;
        var all = new LatencyHistogram();
        foreach (var h in histograms)
        {
            all.Add(h);
        }

        return new TxnSlice(Interlocked.Read(ref committed), Interlocked.Read(ref aborted), elapsed, all, serverCpu, clientCpu, idleCpu);
    }
}
