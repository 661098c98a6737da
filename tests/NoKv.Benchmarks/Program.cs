using System.CommandLine;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using NoKv.Benchmarks.Cluster;
using NoKv.Benchmarks.Raft;
using NoKv.Benchmarks.Storage;
using NoKv.Benchmarks.Ycsb;

namespace NoKv.Benchmarks;

/// <summary>
/// Entry point: `storage`, `raft` and `cluster` benchmarks. These are measurements, not tests; see
/// README.md in this folder for what each one does and how to read its output.
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "micro")
        {
            // BenchmarkDotNet parses its own options (--filter, --job, ...), so they bypass the parser below.
            // Artifacts go to the temp folder so a run never leaves files in the repository.
            var config = DefaultConfig.Instance.WithArtifactsPath(Path.Combine(Path.GetTempPath(), "nokv-benchmarkdotnet"));
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..], config);
            return Task.FromResult(0);
        }
        var root = new RootCommand("NoKV benchmarks (see tests/NoKv.Benchmarks/README.md)");
        root.Subcommands.Add(CreateStorageCommand());
        root.Subcommands.Add(CreateYcsbCommand());
        root.Subcommands.Add(CreateRaftCommand());
        root.Subcommands.Add(CreateClusterCommand());
        root.Subcommands.Add(CreateTimestampCommand());
        root.Subcommands.Add(CreateSplitCommand());
        root.Subcommands.Add(CreateMoveCommand());
        root.Subcommands.Add(CreateRereplicateCommand());
        root.Subcommands.Add(CreateBulkLoadCommand());
        // Listed for --help only; handled above.
        root.Subcommands.Add(new Command("micro", "BenchmarkDotNet micro-benchmarks with [MemoryDiagnoser] (arguments go to BenchmarkDotNet, e.g. --filter '*Crc32C*')"));
        // Ctrl-C / SIGTERM cancel the action's token; the cluster benchmark then stops its silos, which takes
        // longer than System.CommandLine's default 2 s before it ends the process forcibly.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(90) });
    }

    private static Command CreateStorageCommand()
    {
        var quick = QuickOption();
        var json = JsonOption();
        var engines = new Option<string?>("--engines") { Description = "comma-separated subset of engines to run (default: all)" };
        var workloads = new Option<string?>("--workloads")
        {
            Description = "comma-separated subset of workloads to run (default: all); read workloads also run their setup (fillrandom, overwrite, flush)",
        };
        var compression = new Option<string?>("--compression")
        {
            Description = "block codec on every level of every engine (none, lz4, zstd); naming one also makes values half compressible, so runs with different codecs compare",
            HelpName = "none|lz4|zstd",
        };
        var valueBytes = new Option<int?>("--value-bytes") { Description = "value length in bytes (default 100); e.g. 16384 with --engines nokv-vlog,rocksdb-blob,nokv for the value log", HelpName = "N" };
        var keyCount = new Option<int?>("--keys") { Description = "keys of the fill and read workloads (default 1,000,000; 200,000 with --quick)", HelpName = "N" };
        // Hidden options used when the parent re-invokes this program for one engine.
        var engine = new Option<string?>("--engine") { Hidden = true };
        var dataDirectory = new Option<string?>("--data-dir") { Hidden = true };
        var result = new Option<string?>("--result") { Hidden = true };
        var command = new Command("storage", "db_bench-style workloads on nokv, rocksdb and zonetree (and, when named, nokv-vlog and rocksdb-blob) with the same settings")
        {
            quick, json, engines, workloads, compression, valueBytes, keyCount, engine, dataDirectory, result,
        };
        command.SetAction(parse =>
        {
            var single = parse.GetValue(engine);
            if (single is not null)
            {
                var data = parse.GetValue(dataDirectory) ?? throw new ArgumentException("--engine requires --data-dir");
                var resultPath = parse.GetValue(result) ?? throw new ArgumentException("--engine requires --result");
                return StorageBenchmark.RunEngine(single, parse.GetValue(quick), data, resultPath, StorageBenchmark.ParseWorkloads(parse.GetValue(workloads)), parse.GetValue(compression),
                    parse.GetValue(valueBytes), parse.GetValue(keyCount));
            }
            return StorageBenchmark.Run(
                parse.GetValue(quick),
                parse.GetValue(json),
                StorageBenchmark.ParseEngines(parse.GetValue(engines)),
                StorageBenchmark.ParseWorkloads(parse.GetValue(workloads)),
                parse.GetValue(compression),
                parse.GetValue(valueBytes),
                parse.GetValue(keyCount));
        });
        return command;
    }

    private static Command CreateYcsbCommand()
    {
        var quick = QuickOption();
        var json = JsonOption();
        var reads = new Option<string?>("--reads") { Description = "table reads: mapped (memory maps) or pread (positional reads into the block cache); default: NoKv's default for this platform", HelpName = "mapped|pread" };
        var only = new Option<string?>("--workloads") { Description = "run only these workloads (comma-separated from a-f, in the standard order; the load always runs first), to split a full run", HelpName = "LIST" };

        // Hidden options used when the parent re-invokes this program for one engine and workload.
        var engine = new Option<string?>("--engine") { Hidden = true };
        var workload = new Option<string?>("--workload") { Hidden = true };
        var dataDirectory = new Option<string?>("--data-dir") { Hidden = true };
        var state = new Option<string?>("--state") { Hidden = true };
        var result = new Option<string?>("--result") { Hidden = true };
        var command = new Command("ycsb", "YCSB core workloads (load, A-F) on nokv and rocksdb, each engine and workload in its own process")
        {
            quick, json, reads, only, engine, workload, dataDirectory, state, result,
        };
        command.SetAction(parse =>
        {
            var single = parse.GetValue(engine);
            if (single is not null)
            {
                return YcsbBenchmark.RunChild(
                    single,
                    parse.GetValue(workload) ?? throw new ArgumentException("--engine requires --workload"),
                    parse.GetValue(quick),
                    parse.GetValue(reads),
                    parse.GetValue(dataDirectory) ?? throw new ArgumentException("--engine requires --data-dir"),
                    parse.GetValue(state) ?? throw new ArgumentException("--engine requires --state"),
                    parse.GetValue(result) ?? throw new ArgumentException("--engine requires --result"));
            }

            return YcsbBenchmark.Run(parse.GetValue(quick), parse.GetValue(json), parse.GetValue(reads), YcsbBenchmark.ParseWorkloads(parse.GetValue(only)));
        });
        return command;
    }

    private static Command CreateRaftCommand()
    {
        var quick = QuickOption();
        var json = JsonOption();
        var command = new Command("raft", "3 in-memory NoKv.Raft nodes in one thread: committed entries/s and allocations per entry")
        {
            quick, json,
        };
        command.SetAction(parse => RaftBenchmark.Run(parse.GetValue(quick), parse.GetValue(json)));
        return command;
    }

    private static Command CreateClusterCommand()
    {
        var quick = QuickOption();
        var json = JsonOption();
        var etcd = new Option<bool>("--etcd") { Description = "also run the workload against a local 3-member etcd cluster (started and stopped by etcd/*.sh)" };
        var endpoints = new Option<string?>("--etcd-endpoints") { Description = "use this running etcd cluster (comma-separated client URLs) instead of starting one" };
        var shards = new Option<int>("--shards")
        {
            Description = "NoKV shards the key space is pre-split into (equal key counts; 1 = a single Raft group like etcd)",
            DefaultValueFactory = _ => 3,
        };
        var keepData = new Option<bool>("--keep-data") { Description = "keep the NoKV silos' data directories and logs (the path is printed)" };
        var mixes = new Option<string?>("--mixes") { Description = "run only these mixes (comma-separated: write, r50, r95; default all); the warm-up runs them too. With --txn: only these points (e.g. 2key/c64,write/c64)", HelpName = "LIST" };
        var concurrency = new Option<string?>("--concurrency") { Description = "run only these concurrencies (comma-separated, default 1,16,64,256)", HelpName = "LIST" };
        var timeline = new Option<bool>("--timeline") { Description = "also log each point's p50/p99/max latency per quarter second to stderr" };
        var idleSeconds = new Option<int>("--idle-seconds") { Description = "once every shard serves, measure each silo's CPU while idle for this many seconds (after a 10 s settle), then run the workload" };
        var txn = new Option<bool>("--txn") { Description = "run the transaction benchmark instead: 2- and 8-key cross-shard transfers (and etcd's 2-key Txn with --etcd)" };
        var sequential = new Option<bool>("--sequential") { Description = "with --txn --etcd: measure NoKV, stop it, then etcd (by default both run and their measured slices alternate)" };
        var command = new Command("cluster", "3 local NoKV silos (and optionally etcd): mixed workloads with latency percentiles")
        {
            quick, json, etcd, endpoints, shards, keepData, mixes, concurrency, timeline, idleSeconds, txn, sequential,
        };
        command.SetAction((parse, cancellationToken) => parse.GetValue(txn)
            ? TxnBenchmark.RunAsync(new ClusterBenchmarkOptions(parse.GetValue(quick), parse.GetValue(json), parse.GetValue(etcd), parse.GetValue(endpoints), parse.GetValue(shards), parse.GetValue(keepData)) { Mixes = parse.GetValue(mixes), Sequential = parse.GetValue(sequential) }, cancellationToken)
            : ClusterBenchmark.RunAsync(
            new ClusterBenchmarkOptions(parse.GetValue(quick), parse.GetValue(json), parse.GetValue(etcd), parse.GetValue(endpoints), parse.GetValue(shards), parse.GetValue(keepData))
            {
                Mixes = parse.GetValue(mixes),
                Concurrencies = parse.GetValue(concurrency),
                Timeline = parse.GetValue(timeline),
                IdleSeconds = parse.GetValue(idleSeconds),
            },
            cancellationToken));
        return command;
    }

    private static Command CreateTimestampCommand()
    {
        var quick = QuickOption();
        var command = new Command("tso", "the controller's timestamp oracle on 3 local silos: timestamps/s and latency at c1/c16/c64") { quick };
        command.SetAction((parse, cancellationToken) => TimestampBenchmark.RunAsync(parse.GetValue(quick), cancellationToken));
        return command;
    }

    private static Command CreateSplitCommand()
    {
        var quick = QuickOption();
        var command = new Command("split", "throughput and p99 by second on 3 local silos while a loaded shard splits (issue 11)") { quick };
        command.SetAction((parse, cancellationToken) => SplitBenchmark.RunAsync(parse.GetValue(quick), cancellationToken));
        return command;
    }

    private static Command CreateMoveCommand()
    {
        var quick = QuickOption();
        var command = new Command("move", "throughput and p99 by second on 4 local silos while a loaded shard's leader replica moves to the fourth (issue 11)") { quick };
        command.SetAction((parse, cancellationToken) => MoveBenchmark.RunAsync(parse.GetValue(quick), cancellationToken));
        return command;
    }

    private static Command CreateRereplicateCommand()
    {
        var quick = QuickOption();
        var mib = new Option<int?>("--mib") { Description = "user data to load, in MiB (default 1024; 128 with --quick)", HelpName = "N" };
        var writers = new Option<int>("--load-writers") { Description = "concurrent writers of the load (default 8: 32 stalled the engines half the time at 1 GiB on 2 cores)", HelpName = "N", DefaultValueFactory = _ => 8 };
        var command = new Command("rereplicate", "time to re-replicate a killed store's data onto a fourth silo, in MB/s, beside the disk's sequential write rate (issue 11)") { quick, mib, writers };
        command.SetAction((parse, cancellationToken) => RereplicationBenchmark.RunAsync(parse.GetValue(quick), parse.GetValue(mib), cancellationToken, parse.GetValue(writers)));
        return command;
    }

    private static Command CreateBulkLoadCommand()
    {
        var json = JsonOption();
        var engines = new Option<string?>("--engines") { Description = "comma-separated engines (default nokv,rocksdb; also nokv-vlog, rocksdb-blob)" };
        var mib = new Option<int>("--mib") { Description = "user data to load, in MiB (default 1024)", HelpName = "N", DefaultValueFactory = _ => 1024 };
        var valueBytes = new Option<int>("--value-bytes") { Description = "value length (default 16384)", HelpName = "N", DefaultValueFactory = _ => 16384 };
        var threads = new Option<int>("--threads") { Description = "writer threads (default 8)", HelpName = "N", DefaultValueFactory = _ => 8 };
        var silo = new Option<bool>("--silo") { Description = "the silo's engine settings: 16 MiB memtables, background writes paced at 32 MiB/s, 1 MiB bytes-per-sync" };
        var engine = new Option<string?>("--engine") { Hidden = true };
        var dataDirectory = new Option<string?>("--data-dir") { Hidden = true };
        var result = new Option<string?>("--result") { Hidden = true };
        var command = new Command("bulkload", "fillrandom of large values from several writers (the re-replication load's shape): MB/s, stalls, put tails, L0 over time")
        {
            json, engines, mib, valueBytes, threads, silo, engine, dataDirectory, result,
        };
        command.SetAction(parse =>
        {
            var single = parse.GetValue(engine);
            if (single is not null)
            {
                return NoKv.Benchmarks.BulkLoad.BulkLoadBenchmark.RunEngine(single,
                    parse.GetValue(dataDirectory) ?? throw new ArgumentException("--engine requires --data-dir"),
                    parse.GetValue(result) ?? throw new ArgumentException("--engine requires --result"),
                    parse.GetValue(mib), parse.GetValue(valueBytes), parse.GetValue(threads), parse.GetValue(silo));
            }

            return NoKv.Benchmarks.BulkLoad.BulkLoadBenchmark.Run(NoKv.Benchmarks.BulkLoad.BulkLoadBenchmark.ParseEngines(parse.GetValue(engines)),
                parse.GetValue(mib), parse.GetValue(valueBytes), parse.GetValue(threads), parse.GetValue(silo), parse.GetValue(json));
        });
        return command;
    }

    private static Option<bool> QuickOption() =>
        new("--quick") { Description = "smaller counts, same workloads; finishes in under a minute" };

    private static Option<string?> JsonOption() =>
        new("--json") { Description = "also write every figure to this file as JSON", HelpName = "FILE" };
}
