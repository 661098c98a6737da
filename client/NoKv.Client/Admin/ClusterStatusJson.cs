using NoKv.Abstractions.Controller;
using System.Text;
using System.Text.Json;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Abstractions.Telemetry;

namespace NoKv.Client.Admin;

/// <summary>
/// Writes a <see cref="ClusterStatus"/> as the JSON of <c>nokv cluster status --output json</c>:
/// <code>
/// {"map_version": N,
///  "controller": {"leader": store|null, "logic_silo": "..."|null, "timestamp_high_water": N|null, "error": "..."|null,
///                 "balancer": {"leader_balance": bool, "replica_balance": bool, "auto_split": bool, "split_bytes": N,
///                              "split_requests_per_sec": N, "recent_decisions": ["..."]}|null,
///                 "replicas": [{"store": N, "raft_role": "..."|null, "term": N, "applied": N, "error": "..."|null}]},
///  "stores": [{"id": N, "state": "up|down|decommissioning|removed", "silo": "..."|null, "live": true|false,
///              "capacity_bytes": N|null, "available_bytes": N|null, "used_bytes": N|null, "heartbeat_age_ms": N|null, "disk_slow": bool|null,
///              "replicas": N|null, "leaders": N|null, "preferred_leaders": N|null, "writes_per_sec": N|null, "reads_per_sec": N|null}],
///  "shards": [{"id": N, "start": "hex", "end": "hex"|null, "epoch": N, "conf_version": N, "leader": store|null,
///              "writes_per_sec": N|null, "reads_per_sec": N|null, "bytes": N|null, "keys": N|null,
///              "replicas": [{"store": N, "peer": N|null, "role": "voter|learner", "raft_role": "leader|follower|..."|null,
///                            "term": N, "commit": N, "applied": N, "last": N, "apply_halt": "..."|null,
///                            "error": "..."|null}]}],
///  "hot_keys": [{"store": N, "shard": N, "key": "hex", "requests_per_sec": N}] (each store's latest heartbeat, hottest first),
///  "operations": [{"id": N, "kind": "re_replicate|move_replica|split|merge|transfer_leader", "shard": N, "step": N,
///                  "from": store|null, "to": store|null, "created_unix_ms": N, "step_since_unix_ms": N}]}
/// </code>
/// A store's "state" is the controller's committed state when the controller answered (else up/down from the silo's
/// membership view); "live" is always the membership view.
/// A shard's range, epochs and members are taken from the newest descriptor its reachable replicas report (highest
/// epoch, then conf version), so the output follows membership changes; the shard map's entry is the fallback.
/// Keys are snake_case and stable: scripts depend on them.
/// </summary>
public static class ClusterStatusJson
{
    public static string Write(ClusterStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("map_version", status.Map.Version);
            WriteController(json, status);
            WriteStores(json, status);
            json.WriteStartArray("shards");
            foreach (var mapped in status.Map.Shards)
            {
                var load = status.Controller?.Loads.FirstOrDefault(l => l.Shard == mapped.Id);
                WriteShard(json, mapped, status.Replicas.Where(r => r.Replica.Shard == mapped.Id).ToList(), load);
            }

            json.WriteEndArray();
            json.WriteStartArray("hot_keys");
            foreach (var (store, hot) in HotKeys(status))
            {
                json.WriteStartObject();
                json.WriteNumber("store", store.Value);
                json.WriteNumber("shard", hot.Shard);
                json.WriteString("key", Convert.ToHexString(hot.Key));
                json.WriteNumber("requests_per_sec", Math.Round(hot.RequestsPerSecond, 1));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("operations");
            foreach (var op in status.Controller?.Operations ?? [])
            {
                json.WriteStartObject();
                json.WriteNumber("id", op.Id);
                json.WriteString("kind", KindName(op.Kind));
                json.WriteNumber("shard", op.Shard.Value);
                json.WriteNumber("step", op.Step);
                WriteNumberOrNull(json, "from", op.From?.Value);
                WriteNumberOrNull(json, "to", op.To?.Value);
                json.WriteNumber("created_unix_ms", op.CreatedUnixMs);
                json.WriteNumber("step_since_unix_ms", op.StepSinceUnixMs);
                WriteStringOrNull(json, "waiting", op.Waiting);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteController(Utf8JsonWriter json, ClusterStatus status)
    {
        json.WriteStartObject("controller");
        WriteNumberOrNull(json, "leader", status.ControllerLeader?.Value);
        WriteStringOrNull(json, "logic_silo", status.Controller?.LogicSilo);
        WriteNumberOrNull(json, "timestamp_high_water", status.Controller?.TimestampHighWater);
        WriteStringOrNull(json, "error", status.ControllerError);
        if (status.Controller?.Balancer is { } balancer)
        {
            json.WriteStartObject("balancer");
            json.WriteBoolean("leader_balance", balancer.LeaderBalance);
            json.WriteBoolean("replica_balance", balancer.ReplicaBalance);
            json.WriteBoolean("auto_split", balancer.AutoSplit);
            json.WriteNumber("split_bytes", balancer.SplitBytes);
            json.WriteNumber("split_requests_per_sec", balancer.SplitRequestsPerSecond);
            json.WriteStartArray("recent_decisions");
            foreach (var decision in balancer.RecentDecisions)
            {
                json.WriteStringValue(decision);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("balancer");
        }

        json.WriteStartArray("replicas");
        foreach (var report in status.ControllerReplicas)
        {
            var s = report.Status;
            json.WriteStartObject();
            json.WriteNumber("store", report.Replica.Store.Value);
            WriteStringOrNull(json, "raft_role", s is null ? null : s.Role.ToString().ToLowerInvariant());
            WriteNumberOrNull(json, "term", s?.Term);
            WriteNumberOrNull(json, "applied", s?.AppliedIndex);
            WriteStringOrNull(json, "error", s is null ? report.Error ?? "not queried" : null);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteStores(Utf8JsonWriter json, ClusterStatus status)
    {
        var ids = status.Map.Stores.Select(s => s.Id).Concat(status.Controller?.Stores.Select(s => s.Id) ?? []).Distinct().OrderBy(s => s.Value);
        json.WriteStartArray("stores");
        foreach (var id in ids)
        {
            var live = status.Map.Stores.FirstOrDefault(s => s.Id == id);
            var view = status.Controller?.Stores.FirstOrDefault(s => s.Id == id);
            json.WriteStartObject();
            json.WriteNumber("id", id.Value);
            json.WriteString("state", view is not null ? StateName(view.State) : live?.IsUp == true ? "up" : "down");
            WriteStringOrNull(json, "silo", live?.SiloAddress ?? view?.Address);
            json.WriteBoolean("live", live?.IsUp == true);
            WriteNumberOrNull(json, "capacity_bytes", view?.CapacityBytes);
            WriteNumberOrNull(json, "available_bytes", view?.AvailableBytes);
            WriteNumberOrNull(json, "used_bytes", view?.UsedBytes);
            WriteNumberOrNull(json, "heartbeat_age_ms", view?.LastHeartbeatAgeMs);
            if (view is null)
            {
                json.WriteNull("disk_slow");
            }
            else
            {
                json.WriteBoolean("disk_slow", view.DiskSlow);
            }

            WriteNumberOrNull(json, "replicas", view?.Replicas);
            WriteNumberOrNull(json, "leaders", view?.Leaders);
            WriteNumberOrNull(json, "preferred_leaders", view?.PreferredLeaders);
            WriteRateOrNull(json, "writes_per_sec", view?.WritesPerSecond);
            WriteRateOrNull(json, "reads_per_sec", view?.ReadsPerSecond);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>Every store's hot keys from its latest heartbeat to the controller, hottest first (empty without a controller view).</summary>
    public static List<(StoreId Store, HotKeyReport Key)> HotKeys(ClusterStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return (status.Controller?.Stores ?? [])
            .SelectMany(s => (s.HotKeys ?? []).Select(h => (s.Id, h)))
            .OrderByDescending(e => e.h.RequestsPerSecond)
            .ToList();
    }

    /// <summary>The JSON name of a store state (stable: scripts match on it).</summary>
    public static string StateName(StoreState state) => state switch
    {
        StoreState.Up => "up",
        StoreState.Down => "down",
        StoreState.Decommissioning => "decommissioning",
        StoreState.Removed => "removed",
        _ => "unknown",
    };

    private static string KindName(OperationKind kind) => kind switch
    {
        OperationKind.ReReplicate => "re_replicate",
        OperationKind.MoveReplica => "move_replica",
        OperationKind.Split => "split",
        OperationKind.Merge => "merge",
        OperationKind.TransferLeader => "transfer_leader",
        _ => "unknown",
    };

    private static void WriteRateOrNull(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, Math.Round(v, 1));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteShard(Utf8JsonWriter json, ShardDescriptor mapped, List<ReplicaReport> reports, ShardLoad? load)
    {
        var shard = mapped;
        StoreId? leader = null;
        foreach (var report in reports)
        {
            if (report.Status?.Descriptor is { } d && (d.Epoch > shard.Epoch || (d.Epoch == shard.Epoch && d.ConfVersion > shard.ConfVersion)))
            {
                shard = d;
            }

            if (report.Status is { Role: ReplicaRole.Leader })
            {
                leader = report.Replica.Store;
            }
        }

        json.WriteStartObject();
        json.WriteNumber("id", shard.Id.Value);
        json.WriteString("start", Convert.ToHexString(shard.Range.Start));
        WriteStringOrNull(json, "end", shard.Range.End.Length == 0 ? null : Convert.ToHexString(shard.Range.End));
        json.WriteNumber("epoch", shard.Epoch);
        json.WriteNumber("conf_version", shard.ConfVersion);
        // The replicas' own answer first (live); the controller's last heartbeat when no replica answered.
        leader ??= load?.Leader;
        WriteNumberOrNull(json, "leader", leader?.Value);

        WriteRateOrNull(json, "writes_per_sec", load?.WritesPerSecond);
        WriteRateOrNull(json, "reads_per_sec", load?.ReadsPerSecond);
        WriteNumberOrNull(json, "bytes", load?.ApproximateBytes);
        WriteNumberOrNull(json, "keys", load?.ApproximateKeys);
        json.WriteStartArray("replicas");
        foreach (var peer in shard.Peers)
        {
            var report = reports.FirstOrDefault(r => r.Replica.Store == peer.Store);
            WriteReplica(json, peer, report);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteReplica(Utf8JsonWriter json, PeerDescriptor peer, ReplicaReport? report)
    {
        var status = report?.Status;
        json.WriteStartObject();
        json.WriteNumber("store", peer.Store.Value);
        json.WriteNumber("peer", peer.PeerId);
        json.WriteString("role", peer.Role == PeerRole.Voter ? "voter" : "learner");
        WriteStringOrNull(json, "raft_role", status is null ? null : status.Role.ToString().ToLowerInvariant());
        WriteNumberOrNull(json, "term", status?.Term);
        WriteNumberOrNull(json, "commit", status?.CommitIndex);
        WriteNumberOrNull(json, "applied", status?.AppliedIndex);
        WriteNumberOrNull(json, "last", status?.LastIndex);
        WriteStringOrNull(json, "apply_halt", status?.ApplyHalt);
        WriteStringOrNull(json, "error", status is null ? report?.Error ?? "not queried" : null);
        json.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
