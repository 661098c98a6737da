using System.Text;
using NoKv.Resp.Protocol;
using NoKv.Resp.Server;

namespace NoKv.Resp.Commands;

/// <summary>INFO and COMMAND: what clients probe on connect (server version and role, the command table).</summary>
internal static class ServerCommands
{
    /// <summary>
    /// The Redis version reported to clients. Libraries pick commands by it (GETDEL and SET ... GET need 6.2, HELLO 6.0);
    /// this gateway speaks the subset of 7.x documented in docs/resp.md.
    /// </summary>
    public const string CompatibleRedisVersion = "7.2.0";

    private static readonly string NoKvVersion = typeof(ServerCommands).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public static ValueTask Info(RespConnection connection, RespRequest args)
    {
        var server = connection.Server;
        bool all = args.Count == 1 || args.Is(1, "ALL"u8) || args.Is(1, "EVERYTHING"u8) || args.Is(1, "DEFAULT"u8);
        bool Wants(ReadOnlySpan<byte> section)
        {
            if (all)
            {
                return true;
            }

            for (int i = 1; i < args.Count; i++)
            {
                if (args.Is(i, section))
                {
                    return true;
                }
            }

            return false;
        }

        var text = new StringBuilder();
        if (Wants("SERVER"u8))
        {
            var uptime = DateTimeOffset.UtcNow - server.StartedAt;
            text.Append("# Server\r\n")
                .Append("redis_version:").Append(CompatibleRedisVersion).Append("\r\n")
                .Append("redis_mode:standalone\r\n")
                .Append("nokv_version:").Append(NoKvVersion).Append("\r\n")
                .Append("os:").Append(System.Runtime.InteropServices.RuntimeInformation.OSDescription).Append("\r\n")
                .Append("arch_bits:64\r\n")
                .Append("process_id:").Append(Environment.ProcessId).Append("\r\n")
                .Append("tcp_port:").Append(server.LocalEndPoint?.Port ?? 0).Append("\r\n")
                .Append("uptime_in_seconds:").Append((long)uptime.TotalSeconds).Append("\r\n")
                .Append("uptime_in_days:").Append((long)uptime.TotalDays).Append("\r\n")
                .Append("\r\n");
        }

        if (Wants("CLIENTS"u8))
        {
            text.Append("# Clients\r\n")
                .Append("connected_clients:").Append(server.ConnectedClients).Append("\r\n")
                .Append("maxclients:").Append(server.Options.MaxConnections).Append("\r\n")
                .Append("\r\n");
        }

        if (Wants("PERSISTENCE"u8))
        {
            // Every acknowledged write is on a majority of the shard's Raft replicas, fsynced.
            text.Append("# Persistence\r\n")
                .Append("loading:0\r\n")
                .Append("nokv_durability:raft_majority_fsync\r\n")
                .Append("\r\n");
        }

        if (Wants("STATS"u8))
        {
            text.Append("# Stats\r\n")
                .Append("total_connections_received:").Append(server.TotalConnections).Append("\r\n")
                .Append("total_commands_processed:").Append(server.CommandsProcessed).Append("\r\n")
                .Append("rejected_connections:").Append(server.RejectedConnections).Append("\r\n")
                .Append("\r\n");
        }

        if (Wants("REPLICATION"u8))
        {
            // Replication is NoKV's own (Raft, per shard); to a Redis client every gateway is a primary that accepts writes.
            text.Append("# Replication\r\n")
                .Append("role:master\r\n")
                .Append("connected_slaves:0\r\n")
                .Append("\r\n");
        }

        if (Wants("KEYSPACE"u8))
        {
            text.Append("# Keyspace\r\n\r\n");
        }

        connection.Writer.WriteBulk(text.ToString());
        return ValueTask.CompletedTask;
    }

    /// <summary>COMMAND [COUNT | INFO name... | DOCS [name...] | LIST].</summary>
    public static ValueTask Command(RespConnection connection, RespRequest args)
    {
        var writer = connection.Writer;
        if (args.Count == 1)
        {
            writer.WriteArrayHeader(CommandTable.All.Count);
            foreach (var spec in CommandTable.All)
            {
                WriteInfo(writer, spec);
            }
        }
        else if (args.Is(1, "COUNT"u8) && args.Count == 2)
        {
            writer.WriteInteger(CommandTable.All.Count);
        }
        else if (args.Is(1, "LIST"u8))
        {
            writer.WriteArrayHeader(CommandTable.All.Count);
            foreach (var spec in CommandTable.All)
            {
                writer.WriteBulk(spec.Name);
            }
        }
        else if (args.Is(1, "INFO"u8))
        {
            if (args.Count == 2)
            {
                return Command(connection, new RespRequest(new[] { "COMMAND"u8.ToArray() }));
            }

            writer.WriteArrayHeader(args.Count - 2);
            for (int i = 2; i < args.Count; i++)
            {
                if (CommandTable.TryGet(args[i], out var spec))
                {
                    WriteInfo(writer, spec);
                }
                else
                {
                    writer.WriteNullArray();
                }
            }
        }
        else if (args.Is(1, "DOCS"u8))
        {
            // Documentation is in docs/resp.md; clients that ask (redis-cli for its hints) accept an empty map.
            writer.WriteMapHeader(0);
        }
        else
        {
            writer.WriteError(RespErrors.UnknownSubcommand(RespAscii.Printable(args[1]), "COMMAND"));
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>One command's entry in Redis 7's shape: name, arity, flags, first key, last key, step, ACL categories, tips, key specs, subcommands.</summary>
    private static void WriteInfo(RespWriter writer, CommandSpec spec)
    {
        writer.WriteArrayHeader(10);
        writer.WriteBulk(spec.Name);
        writer.WriteInteger(spec.Arity);
        var flags = new List<string>();
        if ((spec.Flags & CommandFlags.Write) != 0)
        {
            flags.Add("write");
        }

        if ((spec.Flags & CommandFlags.ReadOnly) != 0)
        {
            flags.Add("readonly");
        }

        if ((spec.Flags & CommandFlags.Fast) != 0)
        {
            flags.Add("fast");
        }

        if ((spec.Flags & CommandFlags.NoAuth) != 0)
        {
            flags.Add("no_auth");
        }

        if ((spec.Flags & CommandFlags.Loading) != 0)
        {
            flags.Add("loading");
        }

        if ((spec.Flags & CommandFlags.Stale) != 0)
        {
            flags.Add("stale");
        }

        writer.WriteArrayHeader(flags.Count);
        foreach (var flag in flags)
        {
            writer.WriteSimple(flag);
        }

        writer.WriteInteger(spec.FirstKey);
        writer.WriteInteger(spec.LastKey);
        writer.WriteInteger(spec.Step);
        writer.WriteArrayHeader(0);
        writer.WriteArrayHeader(0);
        writer.WriteArrayHeader(0);
        writer.WriteArrayHeader(0);
    }
}
