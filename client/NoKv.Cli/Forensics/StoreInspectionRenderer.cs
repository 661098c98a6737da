using System.Globalization;
using System.Text;
using NoKv.Abstractions.Sharding;
using NoKv.Cli.Commands;
using NoKv.Replica.Layout;
using NoKv.Storage.Inspection;

namespace NoKv.Cli.Forensics;

/// <summary>
/// Text and JSON forms of <see cref="StoreInspection"/>. The JSON document of <c>nokv store inspect --output json</c>:
/// <code>
/// {"store_id": N|null, "directory": "...", "engine": "...", "layout": "..."|null, "read_error": "..."|null,
///  "manifest": {"file": "MANIFEST-NNNNNN", "log_number": N, "last_sequence": N, "next_file_number": N},
///  "levels": [{"level": N, "files": N, "bytes": N}],
///  "tables": [{"level": N, "number": N, "bytes": N, "entries": N, "range_tombstones": N,
///              "smallest_sequence": N, "largest_sequence": N, "smallest_key": "hex", "largest_key": "hex"}],
///  "files": [{"name": "...", "bytes": N, "role": "log|manifest|current|lock|obsolete|other"}],
///  "shards": [{"id": N, "peer": N|null, "start": "hex"|null, "end": "hex"|null, "epoch": N|null, "conf_version": N|null,
///              "peers": [{"peer": N, "store": N, "role": "voter|learner"}], "descriptor_error": "..."|null,
///              "term": N|null, "vote": N|null, "commit": N|null, "applied": N|null, "applied_term": N|null,
///              "truncated_index": N|null, "truncated_term": N|null, "first_log_index": N|null, "last_log_index": N|null,
///              "log_entries": N, "log_bytes": N, "sessions": N, "other_rows": N, "data_rows": N, "data_bytes": N}]}
/// </code>
/// Keys are hex (engine keys: the first byte is the key-space prefix); "end": null is unbounded.
/// </summary>
internal static class StoreInspectionRenderer
{
    public static string Text(StoreInspection s)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"Store {(s.Location.StoreId?.ToString(inv) ?? "(no STORE file)")} at {s.Location.Directory}");
        text.AppendLine(inv, $"Engine {s.Location.EnginePath}");
        text.AppendLine(inv, $"Manifest MANIFEST-{s.ManifestNumber:D6}  log number {s.LogNumber}  last sequence {s.LastSequence}  next file {s.NextFileNumber}");
        if (s.Layout is not null)
        {
            text.AppendLine(inv, $"Layout {s.Layout}");
        }

        text.AppendLine();
        text.AppendLine("LEVEL  FILES  BYTES");
        for (int level = 0; level < s.Levels.Count; level++)
        {
            var files = s.Levels[level];
            text.AppendLine(inv, $"{level,5}  {files.Count,5}  {files.Sum(f => f.SizeBytes),12}");
        }

        text.AppendLine();
        text.AppendLine("TABLE       LEVEL  BYTES         ENTRIES  TOMBS  SEQUENCES              SMALLEST .. LARGEST");
        foreach (var f in s.Levels.SelectMany(l => l))
        {
            text.AppendLine(inv, $"{f.Number:D6}.sst  {f.Level,5}  {f.SizeBytes,12}  {f.Entries,7}  {f.RangeTombstones,5}  {f.SmallestSequence + ".." + f.LargestSequence,-21}  {KeyFormatter.Format(f.SmallestKey)} .. {KeyFormatter.Format(f.LargestKey)}");
        }

        text.AppendLine();
        text.AppendLine("FILE               BYTES         ROLE");
        foreach (var f in s.Files)
        {
            text.AppendLine(inv, $"{f.Name,-17}  {f.SizeBytes,12}  {f.Role}");
        }

        text.AppendLine();
        if (s.ReadError is not null)
        {
            text.AppendLine(inv, $"Shards unreadable: {s.ReadError}");
            return text.ToString();
        }

        text.AppendLine("SHARD  PEER      RANGE                                 EPOCH  CONF  TERM    VOTE      COMMIT   APPLIED  TRUNCATED  LOG              SESSIONS  ROWS      DATA BYTES  PEERS");
        foreach (var shard in s.Shards)
        {
            var d = shard.Descriptor;
            string range = d?.Range.ToString() ?? "(no descriptor)";
            string log = shard.FirstLogIndex is { } first ? $"{first}..{shard.LastLogIndex}" : "empty";
            string peers = d is null ? shard.DescriptorError ?? "-" : string.Join(" ", d.Peers.Select(p => p.ToString()));
            text.AppendLine(inv, $"{shard.Shard.Value,5}  {N(shard.PeerId),-8}  {range,-36}  {(d?.Epoch.ToString(inv) ?? "-"),5}  {(d?.ConfVersion.ToString(inv) ?? "-"),4}  {N(shard.Term),-6}  {N(shard.Vote),-8}  {N(shard.CommitIndex),7}  {N(shard.AppliedIndex),7}  {N(shard.TruncatedIndex),9}  {log,-15}  {shard.Sessions,8}  {shard.DataRows,8}  {shard.DataBytes,10}  {peers}");
        }

        return text.ToString();
    }

    public static string Json(StoreInspection s) => CliJson.Write(json =>
    {
        json.WriteStartObject();
        if (s.Location.StoreId is { } id)
        {
            json.WriteNumber("store_id", id);
        }
        else
        {
            json.WriteNull("store_id");
        }

        json.WriteString("directory", s.Location.Directory);
        json.WriteString("engine", s.Location.EnginePath);
        CliJson.StringOrNull(json, "layout", s.Layout);
        CliJson.StringOrNull(json, "read_error", s.ReadError);
        json.WriteStartObject("manifest");
        json.WriteString("file", $"MANIFEST-{s.ManifestNumber.ToString("D6", CultureInfo.InvariantCulture)}");
        json.WriteNumber("log_number", s.LogNumber);
        json.WriteNumber("last_sequence", s.LastSequence);
        json.WriteNumber("next_file_number", s.NextFileNumber);
        json.WriteEndObject();

        json.WriteStartArray("levels");
        for (int level = 0; level < s.Levels.Count; level++)
        {
            json.WriteStartObject();
            json.WriteNumber("level", level);
            json.WriteNumber("files", s.Levels[level].Count);
            json.WriteNumber("bytes", s.Levels[level].Sum(f => f.SizeBytes));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("tables");
        foreach (TableFileInfo f in s.Levels.SelectMany(l => l))
        {
            json.WriteStartObject();
            json.WriteNumber("level", f.Level);
            json.WriteNumber("number", f.Number);
            json.WriteNumber("bytes", f.SizeBytes);
            json.WriteNumber("entries", f.Entries);
            json.WriteNumber("range_tombstones", f.RangeTombstones);
            json.WriteNumber("smallest_sequence", f.SmallestSequence);
            json.WriteNumber("largest_sequence", f.LargestSequence);
            json.WriteString("smallest_key", Convert.ToHexString(f.SmallestKey));
            json.WriteString("largest_key", Convert.ToHexString(f.LargestKey));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("files");
        foreach (DatabaseFileInfo f in s.Files)
        {
            json.WriteStartObject();
            json.WriteString("name", f.Name);
            json.WriteNumber("bytes", f.SizeBytes);
            json.WriteString("role", f.Role);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("shards");
        foreach (OfflineShardState shard in s.Shards)
        {
            WriteShard(json, shard);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    private static void WriteShard(System.Text.Json.Utf8JsonWriter json, OfflineShardState shard)
    {
        var d = shard.Descriptor;
        json.WriteStartObject();
        json.WriteNumber("id", shard.Shard.Value);
        CliJson.NumberOrNull(json, "peer", shard.PeerId);
        CliJson.StringOrNull(json, "start", d is null ? null : Convert.ToHexString(d.Range.Start));
        CliJson.StringOrNull(json, "end", d is null || d.Range.End.Length == 0 ? null : Convert.ToHexString(d.Range.End));
        CliJson.NumberOrNull(json, "epoch", d is null ? null : (ulong)d.Epoch);
        CliJson.NumberOrNull(json, "conf_version", d is null ? null : (ulong)d.ConfVersion);
        json.WriteStartArray("peers");
        foreach (var peer in d?.Peers ?? [])
        {
            json.WriteStartObject();
            json.WriteNumber("peer", peer.PeerId);
            json.WriteNumber("store", peer.Store.Value);
            json.WriteString("role", peer.Role == PeerRole.Voter ? "voter" : "learner");
            json.WriteEndObject();
        }

        json.WriteEndArray();
        CliJson.StringOrNull(json, "descriptor_error", shard.DescriptorError);
        CliJson.NumberOrNull(json, "term", shard.Term);
        CliJson.NumberOrNull(json, "vote", shard.Vote);
        CliJson.NumberOrNull(json, "commit", shard.CommitIndex);
        CliJson.NumberOrNull(json, "applied", shard.AppliedIndex);
        CliJson.NumberOrNull(json, "applied_term", shard.AppliedTerm);
        CliJson.NumberOrNull(json, "truncated_index", shard.TruncatedIndex);
        CliJson.NumberOrNull(json, "truncated_term", shard.TruncatedTerm);
        CliJson.NumberOrNull(json, "first_log_index", shard.FirstLogIndex);
        CliJson.NumberOrNull(json, "last_log_index", shard.LastLogIndex);
        json.WriteNumber("log_entries", shard.LogEntries);
        json.WriteNumber("log_bytes", shard.LogBytes);
        json.WriteNumber("sessions", shard.Sessions);
        json.WriteNumber("other_rows", shard.OtherRows);
        json.WriteNumber("data_rows", shard.DataRows);
        json.WriteNumber("data_bytes", shard.DataBytes);
        json.WriteEndObject();
    }

    private static string N(ulong? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
