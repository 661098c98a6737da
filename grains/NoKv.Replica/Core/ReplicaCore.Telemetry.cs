using System.Diagnostics;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Raft;
using NoKv.Raft.Messages;
using NoKv.Replica.Diagnostics;

namespace NoKv.Replica.Core;

/// <summary>
/// What the replica reports about itself: request metrics and traces (<see cref="ReplicaTelemetry"/>), the store's
/// request statistics and event log for the HTTP API, and this replica's own load. Every hook here is called from
/// the core's one logical thread and allocates nothing unless a trace is being recorded or an event is logged.
/// </summary>
public sealed partial class ReplicaCore
{
    private readonly ReplicaLoad _load = new();
    private StoreRequestStats? _requestStats;
    private ReplicaEventLog? _eventLog;
    private ulong _observedLead;
    private StateRole _observedRole = StateRole.Follower;

    /// <summary>This replica's client traffic so far (for per-shard rates).</summary>
    public ReplicaLoad Load => _load;

    private StoreRequestStats RequestStats => _requestStats ??= StoreRequestStats.For(_store);

    private ReplicaEventLog EventLog => _eventLog ??= ReplicaEventLog.For(_store);

    /// <summary>Starts a request's span when someone listens (else null, at the cost of a flag check).</summary>
    private static Activity? StartRequestActivity(string name, RequestKind kind)
    {
        var activity = ReplicaTelemetry.Source.StartActivity(name, ActivityKind.Internal);
        activity?.SetTag("nokv.request.kind", KindName(kind));
        return activity;
    }

    /// <summary>Records a request's answer (metrics, store statistics, span) and returns it unchanged.</summary>
    private T Answered<T>(RequestKind kind, long started, Activity? activity, T response, int bytes = 0)
        where T : class, IReplicaResponse
    {
        long now = Stopwatch.GetTimestamp();
        bool ok = response.Code == NoKvErrorCode.Ok;
        string kindName = KindName(kind);
        string result = NoKvErrorCodeNames.Of(response.Code);
        ReplicaTelemetry.Requests.Add(1, new KeyValuePair<string, object?>("kind", kindName), new KeyValuePair<string, object?>("result", result));
        ReplicaTelemetry.RequestDuration.Record(ReplicaTelemetry.Seconds(started, now), new KeyValuePair<string, object?>("kind", kindName));
        RequestStats.Record(kind, ok, (now - started) * 1_000_000 / Stopwatch.Frequency);
        if (ok)
        {
            if (kind == RequestKind.Write)
            {
                _load.AddWrite(bytes);
            }
            else
            {
                _load.AddRead();
            }
        }

        if (activity is not null)
        {
            activity.SetTag("nokv.shard", Descriptor.Id.Value);
            activity.SetTag("nokv.result", result);
            if (!ok)
            {
                activity.SetStatus(ActivityStatusCode.Error, result);
            }

            activity.Dispose();
        }

        return response;
    }

    private static string KindName(RequestKind kind) => kind switch
    {
        RequestKind.Write => ReplicaTelemetry.Kinds.Write,
        RequestKind.Get => ReplicaTelemetry.Kinds.Get,
        _ => ReplicaTelemetry.Kinds.Scan,
    };

    /// <summary>A proposal's fate in Raft; for the proposals counter.</summary>
    private static void CountProposal(ProposalStatus status) =>
        ReplicaTelemetry.Proposals.Add(1, new KeyValuePair<string, object?>("result", status switch
        {
            ProposalStatus.Accepted => "accepted",
            ProposalStatus.NotLeader => "not_leader",
            _ => "dropped",
        }));

    /// <summary>Role and leader changes in a Ready: counters, the event log and one log line (they are rare, and a
    /// failover's timeline cannot be read from the logs without them).</summary>
    private void ObserveSoftState(SoftState soft)
    {
        if (soft.Role != _observedRole || soft.Lead != _observedLead)
        {
            ReplicaCoreLog.RoleChanged(_logger, _name, soft.Role.ToString(), _node.Term, soft.Lead);
        }

        if (soft.Role != _observedRole)
        {
            if (soft.Role is StateRole.Candidate or StateRole.PreCandidate && _observedRole is not (StateRole.Candidate or StateRole.PreCandidate))
            {
                ReplicaTelemetry.Elections.Add(1);
                LogEvent("election_started", $"{_name} campaigns in term {_node.Term}");
            }
            else if (_observedRole == StateRole.Leader)
            {
                LogEvent("stepped_down", $"{_name} is no longer leader (term {_node.Term})");
            }

            if (soft.Role == StateRole.Leader)
            {
                LogEvent("leader_elected", $"{_name} became leader in term {_node.Term}");
            }

            _observedRole = soft.Role;
        }

        if (soft.Lead != _observedLead)
        {
            if (soft.Lead != 0)
            {
                ReplicaTelemetry.LeaderChanges.Add(1);
            }

            _observedLead = soft.Lead;
        }
    }

    /// <summary>Counts the snapshot messages among those about to be sent.</summary>
    private static void CountSnapshotsSent(ReadOnlySpan<Message> messages)
    {
        foreach (var message in messages)
        {
            if (message.Type == MessageType.Snapshot)
            {
                ReplicaTelemetry.SnapshotsSent.Add(1);
            }
        }
    }

    private void LogEvent(string kind, string detail) =>
        EventLog.Add(new ReplicaEvent(_host.WallClockMs, Descriptor.Id.Value, kind, detail));
}
