using System.CommandLine;
using System.Text;
using NoKv.Client;

namespace NoKv.Cli.Commands;

/// <summary>
/// put, get, delete, cas and scan. Keys and values are UTF-8 text. Exit codes: 0 success, 1 not found /
/// compare failed, 2 error (message on stderr). JSON documents (<c>--output json</c>):
/// <code>
/// put, delete   {"ok": true}
/// get           {"key": "...", "found": true|false, "value": "..."|null}
/// cas           {"key": "...", "swapped": true|false}
/// scan          {"entries": [{"key": "...", "value": "..."}], "count": N}
/// </code>
/// </summary>
internal static class KvCommands
{
    public static Command Put()
    {
        var key = new Argument<string>("key");
        var value = new Argument<string>("value");
        var command = new Command("put", "Set a key to a value.") { key, value };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            await connection.Store.PutAsync(parse.GetValue(key)!, parse.GetValue(value)!, token);
            WriteOk(parse);
            return 0;
        }));
        return command;
    }

    public static Command Get()
    {
        var key = new Argument<string>("key");
        var stale = new Option<double?>("--stale-ms") { Description = "Allow a follower read at most this many milliseconds behind the leader." };
        var command = new Command("get", "Print a key's value (exit 1 if absent).") { key, stale };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            var options = parse.GetValue(stale) is { } ms ? KvReadOptions.Stale(TimeSpan.FromMilliseconds(ms)) : null;
            string name = parse.GetValue(key)!;
            var value = await connection.Store.GetStringAsync(name, options, token);
            var output = parse.InvocationConfiguration.Output;
            if (CliOptions.IsJson(parse))
            {
                output.WriteLine(CliJson.Write(json =>
                {
                    json.WriteStartObject();
                    json.WriteString("key", name);
                    json.WriteBoolean("found", value is not null);
                    CliJson.StringOrNull(json, "value", value);
                    json.WriteEndObject();
                }));
            }
            else if (value is null)
            {
                parse.InvocationConfiguration.Error.WriteLine("(not found)");
            }
            else
            {
                output.WriteLine(value);
            }

            return value is null ? 1 : 0;
        }));
        return command;
    }

    public static Command Delete()
    {
        var key = new Argument<string>("key");
        var command = new Command("delete", "Remove a key.") { key };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            await connection.Store.DeleteAsync(parse.GetValue(key)!, token);
            WriteOk(parse);
            return 0;
        }));
        return command;
    }

    public static Command CompareAndSwap()
    {
        var key = new Argument<string>("key");
        var expected = new Option<string?>("--expected") { Description = "Current value required for the swap; omit to require the key to be absent." };
        var newValue = new Option<string?>("--new") { Description = "Value to write; omit to delete the key." };
        var command = new Command("cas", "Compare-and-swap: write --new only if the value equals --expected (exit 1 if not).") { key, expected, newValue };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            string name = parse.GetValue(key)!;
            bool swapped = await connection.Store.CompareAndSwapAsync(name, parse.GetValue(expected), parse.GetValue(newValue), token);
            parse.InvocationConfiguration.Output.WriteLine(CliOptions.IsJson(parse)
                ? CliJson.Write(json =>
                {
                    json.WriteStartObject();
                    json.WriteString("key", name);
                    json.WriteBoolean("swapped", swapped);
                    json.WriteEndObject();
                })
                : swapped ? "SWAPPED" : "MISMATCH");
            return swapped ? 0 : 1;
        }));
        return command;
    }

    public static Command Scan()
    {
        var start = new Argument<string>("start") { DefaultValueFactory = _ => "", Description = "First key (inclusive); empty = from the beginning." };
        var end = new Argument<string>("end") { DefaultValueFactory = _ => "", Description = "End key (exclusive); empty = to the end." };
        var limit = new Option<int>("--limit", "-n") { DefaultValueFactory = _ => 100, Description = "Maximum entries to print." };
        var command = new Command("scan", "Print keys in [start, end) in order, crossing shards.") { start, end, limit };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            var entries = new List<(string Key, string Value)>();
            int count = 0;
            var output = parse.InvocationConfiguration.Output;
            bool json = CliOptions.IsJson(parse);
            await foreach (var entry in connection.Store.ScanAsync(Encoding.UTF8.GetBytes(parse.GetValue(start)!), Encoding.UTF8.GetBytes(parse.GetValue(end)!), parse.GetValue(limit), null, token))
            {
                var pair = (Encoding.UTF8.GetString(entry.Key), Encoding.UTF8.GetString(entry.Value));
                count++;
                if (json)
                {
                    entries.Add(pair);
                }
                else
                {
                    output.WriteLine($"{pair.Item1}\t{pair.Item2}");
                }
            }

            if (json)
            {
                output.WriteLine(CliJson.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("entries");
                    foreach (var (k, v) in entries)
                    {
                        w.WriteStartObject();
                        w.WriteString("key", k);
                        w.WriteString("value", v);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteNumber("count", entries.Count);
                    w.WriteEndObject();
                }));
            }
            else
            {
                parse.InvocationConfiguration.Error.WriteLine($"({count} entr{(count == 1 ? "y" : "ies")})");
            }

            return 0;
        }));
        return command;
    }

    private static void WriteOk(ParseResult parse) =>
        parse.InvocationConfiguration.Output.WriteLine(CliOptions.IsJson(parse) ? "{\"ok\": true}" : "OK");
}
