using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NoKv.Benchmarks.Raft;

/// <summary>
/// The `raft` subcommand: a 3-node NoKv.Raft cluster in one thread (<see cref="InMemoryRaftCluster"/>)
/// driven as fast as the library allows, with 1, 16 and 256 proposals outstanding at the leader.
/// A proposer slot is refilled as soon as its entry is seen committed at the leader, so "16
/// proposers" means 16 entries in flight at all times.
/// Allocations are measured with GC.GetAllocatedBytesForCurrentThread over the timed window (the
/// whole cluster runs on this one thread) divided by committed entries. The 100-byte payload is one
/// shared immutable buffer, so no payload bytes are allocated and nothing needs subtracting: the
/// figure is all library (and harness) allocation per entry. The harness itself allocates nothing in
/// steady state (inbox queues and the storage lists stop growing once warm, logs are trimmed).
/// </summary>
public static class RaftBenchmark
{
    public const int PayloadBytes = 100;

    private static readonly int[] ProposerCounts = [1, 16, 256];

    public static int Run(bool quick, string? jsonPath)
    {
        var duration = quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(4);
        var warmupEntries = quick ? 20_000 : 100_000;
        Console.WriteLine($"NoKV raft benchmark ({(quick ? "quick" : "full")}): 3 in-memory nodes in one thread, {PayloadBytes}-byte payloads, " +
                          $"{duration.TotalSeconds:F0} s per proposer count after {warmupEntries:N0} warm-up entries, .NET {Environment.Version}");
        var results = new List<RaftRunResult>();
        foreach (var proposers in ProposerCounts)
        {
            var result = RunOne(proposers, duration, warmupEntries);
            results.Add(result);
            Console.Error.WriteLine($"[raft] proposers {proposers}: {result.EntriesPerSecond:N0} entries/s, {result.AllocatedBytesPerEntry:F1} B/entry");
        }

        Console.WriteLine();
        Console.WriteLine($"{"proposers",9} {"entries",12} {"entries/s",12} {"alloc B/entry",14} {"gen0 GCs",9} {"gen2 GCs",9}");
        foreach (var result in results)
        {
            Console.WriteLine($"{result.Proposers,9} {result.Entries,12:N0} {result.EntriesPerSecond,12:N0} {result.AllocatedBytesPerEntry,14:F1} " +
                              $"{result.Gen0Collections,9} {result.Gen2Collections,9}" + (result.Failure is null ? "" : "  FAILED: " + result.Failure));
        }
        Console.WriteLine("alloc B/entry: bytes allocated on the driving thread per committed entry; payload buffers are shared, so none of it is payload.");

        if (jsonPath is not null)
        {
            WriteJson(results, jsonPath);
            Console.WriteLine($"JSON written to {jsonPath}");
        }
        return results.Exists(r => r.Failure is not null) ? 1 : 0;
    }

    private static RaftRunResult RunOne(int proposers, TimeSpan duration, int warmupEntries)
    {
        var payload = new byte[PayloadBytes];
        new Random(proposers).NextBytes(payload);
        ReadOnlyMemory<byte> shared = payload;

        var cluster = new InMemoryRaftCluster(seed: 42);
        cluster.ElectLeader();
        long accepted = 0;

        // Warm-up: tiered JIT, queue and list capacities, steady pipeline.
        Drive(cluster, proposers, shared, ref accepted, entryLimit: warmupEntries, deadline: long.MaxValue);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var gen0 = GC.CollectionCount(0);
        var gen2 = GC.CollectionCount(2);
        var committedBefore = cluster.CommittedProposals;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        Drive(cluster, proposers, shared, ref accepted, entryLimit: long.MaxValue, deadline: deadline);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var entries = cluster.CommittedProposals - committedBefore;
        var gen0Collections = GC.CollectionCount(0) - gen0;
        var gen2Collections = GC.CollectionCount(2) - gen2;

        // Verification: after draining, every accepted proposal is committed and all nodes agree.
        cluster.Drain();
        string? failure = null;
        if (cluster.CommittedProposals != accepted)
        {
            failure = $"{accepted} proposals accepted but {cluster.CommittedProposals} committed";
        }
        else if (!cluster.IsConverged())
        {
            failure = "nodes did not converge on the leader's log";
        }

        return new RaftRunResult(proposers, entries, elapsed.TotalSeconds, entries / elapsed.TotalSeconds,
            entries == 0 ? double.NaN : (double)allocated / entries, gen0Collections, gen2Collections, failure);
    }

    /// <summary>
    /// Keeps <paramref name="proposers"/> proposals outstanding and pumps the cluster until the
    /// deadline passes or <paramref name="entryLimit"/> more entries have committed.
    /// </summary>
    private static void Drive(InMemoryRaftCluster cluster, int proposers, ReadOnlyMemory<byte> payload, ref long accepted, long entryLimit, long deadline)
    {
        var target = entryLimit == long.MaxValue ? long.MaxValue : cluster.CommittedProposals + entryLimit;
        var leader = cluster.Leader;
        while (cluster.CommittedProposals < target && Stopwatch.GetTimestamp() < deadline)
        {
            var outstanding = accepted - cluster.CommittedProposals;
            while (outstanding < proposers)
            {
                var result = leader.Propose(payload);
                if (result.Status != NoKv.Raft.ProposalStatus.Accepted)
                {
                    throw new InvalidOperationException($"proposal refused: {result.Status} {result.Reason}");
                }
                accepted++;
                outstanding++;
            }
            cluster.Pump();
        }
    }

    private static void WriteJson(IReadOnlyList<RaftRunResult> results, string path)
    {
        var proposers = new JsonObject();
        foreach (var result in results)
        {
            proposers[result.Proposers.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["entries_per_sec"] = Math.Round(result.EntriesPerSecond, 1),
                ["allocs_per_entry"] = Math.Round(result.AllocatedBytesPerEntry, 2),
                ["entries"] = result.Entries,
                ["seconds"] = Math.Round(result.Seconds, 3),
                ["gen0_collections"] = result.Gen0Collections,
                ["gen2_collections"] = result.Gen2Collections,
                ["failed"] = result.Failure is not null,
            };
        }
        var root = new JsonObject
        {
            ["proposers"] = proposers,
            ["payload_bytes"] = PayloadBytes,
            ["allocs_unit"] = "bytes allocated per committed entry on the driving thread, payload not included (shared buffer)",
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
