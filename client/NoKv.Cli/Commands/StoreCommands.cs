using System.CommandLine;
using System.Globalization;
using System.Text;
using NoKv.Cli.Forensics;
using NoKv.Storage;
using NoKv.Storage.Inspection;

namespace NoKv.Cli.Commands;

/// <summary>
/// Offline forensics of a stopped store, straight from its files (no cluster): <c>nokv store inspect DIR</c> and
/// <c>nokv store verify DIR</c>. DIR is a silo's data directory (data/store-1) or its engine directory. Both hold the
/// engine's lock while they read, so they refuse a store whose silo is running (and a silo cannot start meanwhile),
/// and neither writes to the store. Exit codes: 0 (verify: clean), 1 (verify: damage found; inspect: keys unreadable),
/// 2 cannot read (not a store, store in use, manifest unreadable for inspect, bad arguments).
/// </summary>
internal static class StoreCommands
{
    public static Command Store()
    {
        return new Command("store", "Offline forensics of a stopped store's files; decommissioning a running one.") { Inspect(), Verify(), OperationCommands.Decommission() };
    }

    private static Command Inspect()
    {
        var dir = new Argument<string>("dir") { Description = "The store's data directory (e.g. data/store-1) or its engine directory." };
        var command = new Command("inspect", "Show a stopped store's manifest, levels, tables, files, shards and Raft indexes.") { dir };
        command.SetAction((parse, _) => CliRunner.RunOfflineAsync(parse, () =>
        {
            var location = StoreLocation.Resolve(parse.GetValue(dir)!);
            using var inspector = Open(location, forVerify: false);
            var inspection = StoreInspection.Read(location, inspector!);
            parse.InvocationConfiguration.Output.Write(CliOptions.IsJson(parse)
                ? StoreInspectionRenderer.Json(inspection) + Environment.NewLine
                : StoreInspectionRenderer.Text(inspection));
            return Task.FromResult(inspection.ReadError is null ? 0 : 1);
        }));
        return command;
    }

    private static Command Verify()
    {
        var dir = new Argument<string>("dir") { Description = "The store's data directory (e.g. data/store-1) or its engine directory." };
        var command = new Command("verify", "Check every block and log record checksum of a stopped store (exit 0 clean, 1 damaged, 2 cannot check).") { dir };
        command.SetAction((parse, _) => CliRunner.RunOfflineAsync(parse, () =>
        {
            var location = StoreLocation.Resolve(parse.GetValue(dir)!);
            VerificationReport report;
            try
            {
                using var inspector = Open(location, forVerify: true);
                report = inspector!.Verify();
            }
            catch (CorruptionException e)
            {
                // The manifest itself is damaged: nothing else can be located, and that is the verdict.
                report = new VerificationReport { Problems = [new VerificationProblem(e.Path, e.Offset, e.Message)] };
            }

            parse.InvocationConfiguration.Output.Write(CliOptions.IsJson(parse) ? Json(location, report) + Environment.NewLine : Text(location, report));
            return Task.FromResult(report.IsClean ? 0 : 1);
        }));
        return command;
    }

    private static DatabaseInspector? Open(StoreLocation location, bool forVerify)
    {
        try
        {
            return DatabaseInspector.Open(location.EnginePath);
        }
        catch (StorageLockedException)
        {
            throw new CliException($"the store at '{location.Directory}' is in use: its engine lock ({Path.Combine(location.EnginePath, "LOCK")}) is held by a running process (a silo, or another nokv store command). Stop the silo first; offline forensics never read a live store.", "store_in_use");
        }
        catch (NotADatabaseException e)
        {
            throw new CliException(e.Message, "not_a_store");
        }
        catch (CorruptionException e) when (!forVerify)
        {
            throw new CliException($"the store's manifest cannot be read ({e.Message}); run `nokv store verify` for the full report.", "corrupt");
        }
    }

    private static string Text(StoreLocation location, VerificationReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"Verified store {(location.StoreId?.ToString(inv) ?? "?")} at {location.Directory}: {r.TablesChecked} tables, {r.BlocksChecked} blocks ({r.TableBytesChecked} bytes), {r.EntriesChecked} entries; {r.LogsChecked} logs, {r.LogRecordsChecked} records");
        text.AppendLine(r.IsClean ? "CLEAN" : $"DAMAGED: {r.Problems.Count} problem(s)");
        foreach (var p in r.Problems)
        {
            text.AppendLine(inv, $"  {p.Path} at offset {p.Offset}: {p.Message}");
        }

        foreach (string note in r.Notes)
        {
            text.AppendLine(inv, $"  note: {note}");
        }

        return text.ToString();
    }

    private static string Json(StoreLocation location, VerificationReport r) => CliJson.Write(json =>
    {
        json.WriteStartObject();
        if (location.StoreId is { } id)
        {
            json.WriteNumber("store_id", id);
        }
        else
        {
            json.WriteNull("store_id");
        }

        json.WriteString("directory", location.Directory);
        json.WriteBoolean("clean", r.IsClean);
        json.WriteNumber("tables", r.TablesChecked);
        json.WriteNumber("blocks", r.BlocksChecked);
        json.WriteNumber("table_bytes", r.TableBytesChecked);
        json.WriteNumber("entries", r.EntriesChecked);
        json.WriteNumber("logs", r.LogsChecked);
        json.WriteNumber("log_records", r.LogRecordsChecked);
        json.WriteStartArray("problems");
        foreach (var p in r.Problems)
        {
            json.WriteStartObject();
            json.WriteString("file", p.Path);
            json.WriteNumber("offset", p.Offset);
            json.WriteString("message", p.Message);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("notes");
        foreach (string note in r.Notes)
        {
            json.WriteStringValue(note);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });
}
