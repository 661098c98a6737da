using System.Diagnostics.CodeAnalysis;

namespace NoKv.Resp.Commands;

/// <summary>
/// Every command the gateway knows, by name (case-insensitive). Arity and key positions follow redis-server's
/// command table, so COMMAND INFO answers what clients expect. Anything not here is "unknown command".
/// </summary>
internal static class CommandTable
{
    private const CommandFlags ReadFast = CommandFlags.ReadOnly | CommandFlags.Fast;
    private const CommandFlags WriteFast = CommandFlags.Write | CommandFlags.Fast;
    private const CommandFlags Connection = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale;

    private static readonly Dictionary<string, CommandSpec> ByName;
    private static readonly Dictionary<string, CommandSpec>.AlternateLookup<ReadOnlySpan<char>> ByNameSpan;

    static CommandTable()
    {
        CommandSpec[] all =
        [
            // Connection
            new() { Name = "ping", Arity = -1, Flags = Connection, Transition = ConnectionCommands.Ping },
            new() { Name = "echo", Arity = 2, Flags = Connection, Transition = ConnectionCommands.Echo },
            new() { Name = "hello", Arity = -1, Flags = Connection | CommandFlags.NoAuth, Handler = ConnectionCommands.Hello },
            new() { Name = "auth", Arity = -2, Flags = Connection | CommandFlags.NoAuth, Handler = ConnectionCommands.Auth },
            new() { Name = "select", Arity = 2, Flags = Connection, Handler = ConnectionCommands.Select },
            new() { Name = "client", Arity = -2, Flags = Connection, Handler = ConnectionCommands.Client },
            new() { Name = "quit", Arity = -1, Flags = Connection | CommandFlags.NoAuth | CommandFlags.Transaction, Handler = ConnectionCommands.Quit },

            // Server
            new() { Name = "info", Arity = -1, Flags = CommandFlags.Loading | CommandFlags.Stale, Handler = ServerCommands.Info },
            new() { Name = "command", Arity = -1, Flags = CommandFlags.Loading | CommandFlags.Stale, Handler = ServerCommands.Command },

            // Strings
            new() { Name = "get", Arity = 2, Flags = ReadFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.Get },
            new() { Name = "set", Arity = -3, Flags = CommandFlags.Write, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.Set, ReadsKeys = StringCommands.SetReadsKey },
            new() { Name = "setnx", Arity = 3, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.SetNx },
            new() { Name = "getset", Arity = 3, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.GetSet },
            new() { Name = "setex", Arity = 4, Flags = CommandFlags.Write, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.SetEx, ReadsKeys = KeyCommands.Never },
            new() { Name = "psetex", Arity = 4, Flags = CommandFlags.Write, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.SetEx, ReadsKeys = KeyCommands.Never },
            new() { Name = "getex", Arity = -2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.GetEx },
            new() { Name = "getdel", Arity = 2, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.GetDel },
            new() { Name = "mget", Arity = -2, Flags = ReadFast, FirstKey = 1, LastKey = -1, Step = 1, Transition = StringCommands.MGet, MultiKey = MultiKeyReply.Array },
            new() { Name = "mset", Arity = -3, Flags = CommandFlags.Write, FirstKey = 1, LastKey = -1, Step = 2, Transition = StringCommands.MSet, ReadsKeys = KeyCommands.Never, MultiKey = MultiKeyReply.Ok },
            new() { Name = "incr", Arity = 2, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.Incr },
            new() { Name = "decr", Arity = 2, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.Decr },
            new() { Name = "incrby", Arity = 3, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.IncrBy },
            new() { Name = "decrby", Arity = 3, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.DecrBy },
            new() { Name = "append", Arity = 3, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.Append },
            new() { Name = "strlen", Arity = 2, Flags = ReadFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = StringCommands.Strlen },

            // Keys
            new() { Name = "del", Arity = -2, Flags = CommandFlags.Write, FirstKey = 1, LastKey = -1, Step = 1, Transition = KeyCommands.Del, MultiKey = MultiKeyReply.Sum },
            new() { Name = "unlink", Arity = -2, Flags = WriteFast, FirstKey = 1, LastKey = -1, Step = 1, Transition = KeyCommands.Del, MultiKey = MultiKeyReply.Sum },
            new() { Name = "exists", Arity = -2, Flags = ReadFast, FirstKey = 1, LastKey = -1, Step = 1, Transition = KeyCommands.Exists, MultiKey = MultiKeyReply.Sum },
            new() { Name = "ttl", Arity = 2, Flags = ReadFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = KeyCommands.Ttl },
            new() { Name = "pttl", Arity = 2, Flags = ReadFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = KeyCommands.Ttl },
            new() { Name = "expiretime", Arity = 2, Flags = ReadFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = KeyCommands.ExpireTime },
            new() { Name = "pexpiretime", Arity = 2, Flags = ReadFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = KeyCommands.ExpireTime },
            new() { Name = "expire", Arity = -3, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = KeyCommands.Expire },
            new() { Name = "pexpire", Arity = -3, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = KeyCommands.Expire },
            new() { Name = "expireat", Arity = -3, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = KeyCommands.Expire },
            new() { Name = "pexpireat", Arity = -3, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = KeyCommands.Expire },
            new() { Name = "persist", Arity = 2, Flags = WriteFast, FirstKey = 1, LastKey = 1, Step = 1, Transition = KeyCommands.Persist },
            new() { Name = "scan", Arity = -2, Flags = CommandFlags.ReadOnly, Handler = ScanCommand.Scan },

            // Transactions
            new() { Name = "multi", Arity = 1, Flags = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Transaction, Handler = TransactionCommands.Multi },
            new() { Name = "exec", Arity = 1, Flags = CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Transaction, Handler = TransactionCommands.Exec },
            new() { Name = "discard", Arity = 1, Flags = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Transaction, Handler = TransactionCommands.Discard },
            new() { Name = "watch", Arity = -2, Flags = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Transaction, FirstKey = 1, LastKey = -1, Step = 1, Handler = TransactionCommands.Watch },
            new() { Name = "unwatch", Arity = 1, Flags = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Transaction, Handler = TransactionCommands.Unwatch },
        ];
        All = all;
        ByName = new Dictionary<string, CommandSpec>(StringComparer.OrdinalIgnoreCase);
        foreach (var spec in all)
        {
            ByName.Add(spec.Name, spec);
        }

        ByNameSpan = ByName.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public static IReadOnlyList<CommandSpec> All { get; }

    /// <summary>Looks a command up by its raw name bytes, without allocating.</summary>
    public static bool TryGet(ReadOnlySpan<byte> name, [NotNullWhen(true)] out CommandSpec? spec)
    {
        spec = null;
        if (name.IsEmpty || name.Length > 32)
        {
            return false;
        }

        Span<char> chars = stackalloc char[name.Length];
        for (int i = 0; i < name.Length; i++)
        {
            chars[i] = (char)name[i];
        }

        return ByNameSpan.TryGetValue(chars, out spec);
    }
}
