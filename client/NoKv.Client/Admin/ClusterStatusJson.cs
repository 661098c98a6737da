using System.Text;
using System.Text.Json;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.Client.Admin;

/// <summary>
/// Writes a <see cref="ClusterStatus"/> as the JSON of <c>nokv cluster status --output json</c>:
/// <code>
/// {"map_version": N,
///  "stores": [{"id": N, "state": "up|down", "silo": "..."|null}],
///  "shards": [{"id": N, "start": "hex", "end": "hex"|null, "epoch": N, "conf_version": N, "leader": store|null,
///              "replicas": [{"store": N, "peer": N|null, "role": "voter|learner", "raft_role": "leader|follower|..."|null,
///                            "term": N, "commit": N, "applied": N, "last": N, "apply_halt": "..."|null,
///                            "error": "..."|null}]}]}
/// </code>
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
            json.WriteStartArray("stores");
            foreach (var store in status.Map.Stores)
            {
                json.WriteStartObject();
                json.WriteNumber("id", store.Id.Value);
                json.WriteString("state", store.IsUp ? "up" : "down");
                WriteStringOrNull(json, "silo", store.SiloAddress);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("shards");
            foreach (var mapped in status.Map.Shards)
            {
                WriteShard(json, mapped, status.Replicas.Where(r => r.Replica.Shard == mapped.Id).ToList());
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteShard(Utf8JsonWriter json, ShardDescriptor mapped, List<ReplicaReport> reports)
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
        if (leader is { } l)
        {
            json.WriteNumber("leader", l.Value);
        }
        else
        {
            json.WriteNull("leader");
        }

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
