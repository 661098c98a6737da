using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace NoKv.Replica.Diagnostics;

/// <summary>
/// The replica core's instruments: one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named
/// <see cref="Name"/>. Nothing here depends on OpenTelemetry; a host subscribes (the silo adds the meter and source
/// to its OpenTelemetry providers). Names, units and attributes are listed in docs/telemetry.md.
/// <para>Cost: with no listener an instrument's Add/Record is a flag check and StartActivity returns null. With one,
/// attributes are constant strings (request kinds, result names from <see cref="Abstractions.Errors.NoKvErrorCodeNames"/>),
/// so recording allocates nothing.</para>
/// </summary>
public static class ReplicaTelemetry
{
    /// <summary>Meter and activity source name.</summary>
    public const string Name = "NoKv.Replica";

    public static readonly Meter Meter = new(Name);

    /// <summary>Bucket bounds for latencies in seconds, 100 us to 10 s (the SDK's default bounds assume milliseconds).</summary>
    public static readonly InstrumentAdvice<double> LatencyAdvice = new()
    {
        HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    public static readonly ActivitySource Source = new(Name);

    /// <summary>Client requests a replica answered, by kind (write, get, scan) and result (ok, not_leader, ...).</summary>
    public static readonly Counter<long> Requests = Meter.CreateCounter<long>("nokv.replica.requests", "{request}", "Client requests answered by replicas, by kind and result");

    /// <summary>Time from a request reaching the replica to its answer.</summary>
    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>("nokv.replica.request.duration", "s", "Time replicas took to answer client requests, by kind", tags: null, advice: LatencyAdvice);

    /// <summary>Proposals handed to Raft by leaders, by result (accepted, not_leader, dropped).</summary>
    public static readonly Counter<long> Proposals = Meter.CreateCounter<long>("nokv.raft.proposals", "{proposal}", "Proposals handed to Raft, by result");

    /// <summary>Time from proposing a write to its entry being committed and applied on the leader.</summary>
    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>("nokv.raft.commit.duration", "s", "Time from proposal to commit and apply on the leader", tags: null, advice: LatencyAdvice);

    /// <summary>Committed log entries applied to state machines.</summary>
    public static readonly Counter<long> EntriesApplied = Meter.CreateCounter<long>("nokv.raft.entries.applied", "{entry}", "Committed Raft entries applied");

    /// <summary>Log entries persisted by replicas (leaders' own and followers' appends).</summary>
    public static readonly Counter<long> EntriesAppended = Meter.CreateCounter<long>("nokv.raft.entries.appended", "{entry}", "Raft entries persisted to the local log");

    /// <summary>Time one Ready's engine write took (log append, hard state and applied effects in one batch).</summary>
    public static readonly Histogram<double> AppendDuration = Meter.CreateHistogram<double>("nokv.raft.append.duration", "s", "Time to persist one Raft Ready (log append, hard state, applied state)", tags: null, advice: LatencyAdvice);

    /// <summary>Campaigns started (pre-candidate or candidate), i.e. elections this replica took part in as a candidate.</summary>
    public static readonly Counter<long> Elections = Meter.CreateCounter<long>("nokv.raft.elections", "{election}", "Elections started by replicas (pre-vote or vote campaigns)");

    /// <summary>Times a replica learned of a new leader (itself or another).</summary>
    public static readonly Counter<long> LeaderChanges = Meter.CreateCounter<long>("nokv.raft.leader_changes", "{change}", "Leader changes observed by replicas");

    /// <summary>Snapshot messages sent to lagging followers.</summary>
    public static readonly Counter<long> SnapshotsSent = Meter.CreateCounter<long>("nokv.raft.snapshots.sent", "{snapshot}", "Snapshot messages sent to followers");

    /// <summary>Snapshots installed by followers.</summary>
    public static readonly Counter<long> SnapshotsInstalled = Meter.CreateCounter<long>("nokv.raft.snapshots.installed", "{snapshot}", "Snapshots installed by replicas");

    /// <summary>Readies handled (one engine write each when they carry anything to persist).</summary>
    public static readonly Counter<long> Readies = Meter.CreateCounter<long>("nokv.raft.readies", "{ready}", "Raft Readies handled by replicas");

    /// <summary>Ticks stepped into Raft nodes (a hibernating replica's ticks are not counted: they step nothing).</summary>
    public static readonly Counter<long> Ticks = Meter.CreateCounter<long>("nokv.raft.ticks", "{tick}", "Ticks stepped into Raft nodes");

    /// <summary>Raft messages replicas handed to their host for sending.</summary>
    public static readonly Counter<long> MessagesSent = Meter.CreateCounter<long>("nokv.raft.messages.sent", "{message}", "Raft messages handed to the transport");

    /// <summary>Replicas going to sleep (<c>state</c> = sleep) or waking (<c>state</c> = wake).</summary>
    public static readonly Counter<long> Hibernations = Meter.CreateCounter<long>("nokv.replica.hibernations", "{change}", "Replicas going to sleep or waking, by state");

    /// <summary>Request kinds, as attribute values.</summary>
    public static class Kinds
    {
        public const string Write = "write";
        public const string Get = "get";
        public const string Scan = "scan";
    }

    /// <summary>Seconds between two <see cref="Stopwatch.GetTimestamp"/> readings.</summary>
    public static double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;
}
