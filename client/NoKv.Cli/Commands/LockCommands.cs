using System.CommandLine;
using System.Globalization;
using NoKv.Abstractions.Errors;
using NoKv.Client.Locks;

namespace NoKv.Cli.Commands;

/// <summary>
/// `nokv lock acquire|renew|release|status`. A lock outlives this process only through its owner id and token,
/// which acquire prints and renew and release take back. Exit codes: 0 success, 1 not acquired / no longer held,
/// 2 error. With the global --output json, one document per command with stable snake_case keys.
/// </summary>
internal static class LockCommands
{
    public static Command Lock()
    {
        return new Command("lock", "Distributed locks with leases and fencing tokens (docs/locks.md).") { Acquire(), Renew(), Release(), Status() };
    }

    private static Command Acquire()
    {
        var name = new Argument<string>("name");
        var lease = new Option<double>("--lease") { DefaultValueFactory = _ => 30, Description = "Lease in seconds; renew before it ends." };
        var wait = new Option<double>("--wait") { DefaultValueFactory = _ => 0, Description = "Seconds to wait in the queue if the lock is held (0: fail at once)." };
        var command = new Command("acquire", "Take a lock; prints its owner id and fencing token (exit 1 if it stays held by another owner).") { name, lease, wait };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            try
            {
                var handle = await connection.Locks.AcquireAsync(parse.GetValue(name)!, TimeSpan.FromSeconds(parse.GetValue(lease)), TimeSpan.FromSeconds(parse.GetValue(wait)), token);
                Write(parse, new Dictionary<string, object?>
                {
                    ["name"] = handle.Name, ["acquired"] = true, ["owner"] = handle.Owner.ToString(), ["token"] = handle.Token,
                    ["lease_ms"] = (long)handle.Lease.TotalMilliseconds,
                }, $"owner {handle.Owner} token {handle.Token} lease {handle.Lease.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s");
                return 0;
            }
            catch (LockNotAcquiredException e)
            {
                Write(parse, new Dictionary<string, object?> { ["name"] = parse.GetValue(name), ["acquired"] = false, ["reason"] = e.Message }, e.Message);
                return 1;
            }
        }));
        return command;
    }

    private static Command Renew()
    {
        var name = new Argument<string>("name");
        var (owner, fence, lease) = HandleOptions();
        var command = new Command("renew", "Restart the lease of a lock this owner holds (exit 1 if it is no longer held).") { name, owner, fence, lease };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            var handle = connection.Locks.Attach(parse.GetValue(name)!, ParseOwner(parse.GetValue(owner)!), parse.GetValue(fence), TimeSpan.FromSeconds(parse.GetValue(lease)));
            try
            {
                await handle.RenewAsync(token);
                Write(parse, new Dictionary<string, object?> { ["name"] = handle.Name, ["renewed"] = true, ["token"] = handle.Token }, $"renewed token {handle.Token}");
                return 0;
            }
            catch (LockLostException e)
            {
                Write(parse, new Dictionary<string, object?> { ["name"] = handle.Name, ["renewed"] = false, ["reason"] = e.Message }, e.Message);
                return 1;
            }
        }));
        return command;
    }

    private static Command Release()
    {
        var name = new Argument<string>("name");
        var (owner, fence, lease) = HandleOptions();
        var command = new Command("release", "Give a lock up, or leave its queue (exit 1 if this owner neither held nor waited for it).") { name, owner, fence, lease };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            var handle = connection.Locks.Attach(parse.GetValue(name)!, ParseOwner(parse.GetValue(owner)!), Math.Max(1, parse.GetValue(fence)), TimeSpan.FromSeconds(parse.GetValue(lease)));
            bool released = await handle.ReleaseAsync(token);
            Write(parse, new Dictionary<string, object?> { ["name"] = handle.Name, ["released"] = released }, released ? "released" : "not held");
            return released ? 0 : 1;
        }));
        return command;
    }

    private static Command Status()
    {
        var name = new Argument<string>("name");
        var command = new Command("status", "Show a lock's holder, fencing token and queue length.") { name };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            var status = await connection.Locks.GetStatusAsync(parse.GetValue(name)!, token);
            Write(parse, new Dictionary<string, object?>
            {
                ["name"] = status.Name, ["held"] = status.Holder is not null, ["holder"] = status.Holder?.ToString(), ["token"] = status.Token,
                ["last_token"] = status.LastToken, ["lease_ms"] = (long)status.Lease.TotalMilliseconds, ["waiters"] = status.Waiters,
            }, status.Holder is { } holder
                ? $"held by {holder} token {status.Token} lease {status.Lease.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s, {status.Waiters} waiting"
                : $"free (last token {status.LastToken})");
            return 0;
        }));
        return command;
    }

    private static (Option<string> Owner, Option<long> Token, Option<double> Lease) HandleOptions() =>
    (
        new Option<string>("--owner") { Required = true, Description = "The owner id acquire printed." },
        new Option<long>("--token") { Description = "The fencing token acquire printed (renew needs it)." },
        new Option<double>("--lease") { DefaultValueFactory = _ => 30, Description = "The lease in seconds acquire asked for." }
    );

    private static Guid ParseOwner(string value) =>
        Guid.TryParse(value, out var owner) ? owner : throw new CliException($"--owner '{value}' is not an owner id.");

    /// <summary>One line of text, or with --output json one document with the fields in <paramref name="json"/>.</summary>
    private static void Write(ParseResult parse, Dictionary<string, object?> json, string text) =>
        parse.InvocationConfiguration.Output.WriteLine(CliOptions.IsJson(parse) ? CliJson.Write(writer =>
        {
            writer.WriteStartObject();
            foreach (var (key, value) in json)
            {
                switch (value)
                {
                    case null:
                        writer.WriteNull(key);
                        break;
                    case bool b:
                        writer.WriteBoolean(key, b);
                        break;
                    case long n:
                        writer.WriteNumber(key, n);
                        break;
                    case int n:
                        writer.WriteNumber(key, n);
                        break;
                    default:
                        writer.WriteString(key, value.ToString());
                        break;
                }
            }

            writer.WriteEndObject();
        }) : text);
}
