namespace NoKv.Resp.Commands;

/// <summary>Error replies in redis-server's exact wording (clients and scripts match on them), plus NoKV's own.</summary>
internal static class RespErrors
{
    public const string Syntax = "ERR syntax error";
    public const string NotInteger = "ERR value is not an integer or out of range";
    public const string Overflow = "ERR increment or decrement would overflow";
    public const string DecrementOverflow = "ERR decrement would overflow";
    public const string NoAuth = "NOAUTH Authentication required.";
    public const string WrongPass = "WRONGPASS invalid username-password pair or user is disabled.";
    public const string NoPassword = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
    public const string DbOutOfRange = "ERR DB index is out of range";
    public const string NoProto = "NOPROTO unsupported protocol version";
    public const string InvalidCursor = "ERR invalid cursor";
    public const string MultiNested = "ERR MULTI calls can not be nested";
    public const string ExecWithoutMulti = "ERR EXEC without MULTI";
    public const string DiscardWithoutMulti = "ERR DISCARD without MULTI";
    public const string WatchInMulti = "ERR WATCH inside MULTI is not allowed";
    public const string ExecAbort = "EXECABORT Transaction discarded because of previous errors.";
    public const string MaxClients = "ERR max number of clients reached";
    public const string StringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

    /// <summary>NoKV's own: the store cannot yet keep a time to live.</summary>

    public static string WrongArity(string command) => $"ERR wrong number of arguments for '{command}' command";

    public static string InvalidExpire(string command) => $"ERR invalid expire time in '{command}' command";

    public static string UnknownSubcommand(string subcommand, string command) => $"ERR unknown subcommand '{subcommand}'. Try {command} HELP.";
}
