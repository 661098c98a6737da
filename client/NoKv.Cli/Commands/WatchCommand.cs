using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NoKv.Abstractions.Status;
using NoKv.Client.Admin;

namespace NoKv.Cli.Commands;

/// <summary>
/// <c>nokv watch</c>: the cluster's status refreshed every <c>--interval</c> seconds until Ctrl-C (or <c>--count</c>
/// frames): stores up or down, and per shard its leader, term, commit index, commits per second since the previous
/// frame and how many replicas answer. On a terminal each frame replaces the last; redirected, frames follow each
/// other. With <c>--output json</c>, one compact JSON document per line (NDJSON):
/// <code>
/// {"time": "ISO-8601", "error": null|"...",
///  "stores": [{"id": N, "state": "up|down"}],
///  "shards": [{"id": N, "leader": store|null, "term": N|null, "commit": N|null, "commits_per_sec": X|null,
///              "replicas": N, "replicas_reachable": N}]}
/// </code>
/// A frame whose status cannot be read (the cluster is restarting) says why and the watch goes on.
/// </summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var interval = new Option<double>("--interval", "-i") { DefaultValueFactory = _ => 2, Description = "Seconds between refreshes." };
        var count = new Option<int>("--count", "-c") { DefaultValueFactory = _ => 0, Description = "Stop after this many frames (0 = until Ctrl-C)." };
        var command = new Command("watch", "Live cluster status: leaders, terms, commit rates, replicas; refreshed until Ctrl-C.") { interval, count };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            var period = TimeSpan.FromSeconds(parse.GetValue(interval));
            if (period <= TimeSpan.Zero)
            {
                throw new CliException("--interval must be positive.");
            }

            int frames = parse.GetValue(count);
            var output = parse.InvocationConfiguration.Output;
            bool json = CliOptions.IsJson(parse);
            bool terminal = !json && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            Dictionary<long, (long Commit, DateTimeOffset At)> previous = [];
            try
            {
                for (int frame = 1; frames == 0 || frame <= frames; frame++)
                {
                    var now = DateTimeOffset.UtcNow;
                    ClusterStatus? report = null;
                    string? error = null;
                    try
                    {
                        report = await connection.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(3), token);
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                    {
                        error = e.Message;
                    }

                    var rows = report is null ? [] : Summarize(report, now, previous);
                    if (json)
                    {
                        output.WriteLine(WriteJson(now, error, report, rows));
                    }
                    else
                    {
                        output.Write((terminal ? "\u001b[H\u001b[2J" : string.Empty) + Render(now, error, report, rows, period));
                    }

                    output.Flush();
                    if (frames != 0 && frame == frames)
                    {
                        break;
                    }

                    await Task.Delay(period, token);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Ctrl-C is how a watch ends.
            }

            return 0;
        }));
        return command;
    }

    internal sealed record ShardRow(long Id, long? Leader, long? Term, long? Commit, double? CommitsPerSecond, int Replicas, int Reachable);

    internal static List<ShardRow> Summarize(ClusterStatus report, DateTimeOffset now, Dictionary<long, (long Commit, DateTimeOffset At)> previous)
    {
        var rows = new List<ShardRow>();
        foreach (var shard in report.Map.Shards)
        {
            var replicas = report.Replicas.Where(r => r.Replica.Shard == shard.Id).ToList();
            var leader = replicas.FirstOrDefault(r => r.Status is { Role: ReplicaRole.Leader })?.Status;
            double? rate = null;
            if (leader is not null)
            {
                if (previous.TryGetValue(shard.Id.Value, out var before) && now > before.At)
                {
                    rate = Math.Max(0, leader.CommitIndex - before.Commit) / (now - before.At).TotalSeconds;
                }

                previous[shard.Id.Value] = (leader.CommitIndex, now);
            }

            rows.Add(new ShardRow(
                shard.Id.Value,
                leader?.Replica.Store.Value,
                leader?.Term,
                leader?.CommitIndex,
                rate,
                shard.Peers.Length,
                replicas.Count(r => r.Status is not null)));
        }

        return rows;
    }

    private static string Render(DateTimeOffset now, string? error, ClusterStatus? report, List<ShardRow> rows, TimeSpan period)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"nokv watch  {now:yyyy-MM-ddTHH:mm:ssZ}  every {period.TotalSeconds:0.#}s  (Ctrl-C to stop)");
        if (report is null)
        {
            text.AppendLine(inv, $"status unavailable: {error}");
            text.AppendLine();
            return text.ToString();
        }

        text.Append("stores:");
        foreach (var store in report.Map.Stores)
        {
            text.Append(inv, $"  {store.Id}={(store.IsUp ? "up" : "DOWN")}");
        }

        text.AppendLine();
        text.AppendLine("SHARD  LEADER  TERM    COMMIT    COMMITS/S  REPLICAS");
        foreach (var row in rows)
        {
            string leader = row.Leader is { } l ? l.ToString(inv) : "NONE";
            string rate = row.CommitsPerSecond is { } r ? r.ToString("0.0", inv) : "-";
            text.AppendLine(inv, $"{row.Id,5}  {leader,6}  {(row.Term?.ToString(inv) ?? "-"),-6}  {(row.Commit?.ToString(inv) ?? "-"),8}  {rate,9}  {row.Reachable}/{row.Replicas}");
        }

        text.AppendLine();
        return text.ToString();
    }

    private static string WriteJson(DateTimeOffset now, string? error, ClusterStatus? report, List<ShardRow> rows) => CliJson.Write(
        json =>
        {
            json.WriteStartObject();
            json.WriteString("time", now.ToString("O", CultureInfo.InvariantCulture));
            CliJson.StringOrNull(json, "error", error);
            json.WriteStartArray("stores");
            foreach (var store in report?.Map.Stores ?? [])
            {
                json.WriteStartObject();
                json.WriteNumber("id", store.Id.Value);
                json.WriteString("state", store.IsUp ? "up" : "down");
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("shards");
            foreach (var row in rows)
            {
                json.WriteStartObject();
                json.WriteNumber("id", row.Id);
                WriteNullable(json, "leader", row.Leader);
                WriteNullable(json, "term", row.Term);
                WriteNullable(json, "commit", row.Commit);
                if (row.CommitsPerSecond is { } rate)
                {
                    json.WriteNumber("commits_per_sec", Math.Round(rate, 1));
                }
                else
                {
                    json.WriteNull("commits_per_sec");
                }

                json.WriteNumber("replicas", row.Replicas);
                json.WriteNumber("replicas_reachable", row.Reachable);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        },
        indented: false);

    private static void WriteNullable(Utf8JsonWriter json, string name, long? value)
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
