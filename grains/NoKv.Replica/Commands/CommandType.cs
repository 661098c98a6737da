namespace NoKv.Replica.Commands;

/// <summary>
/// What a log entry's command does; byte 2 of the command envelope (docs/format-commands.md).
/// On disk in every Raft log: never renumber, never reuse a retired value, only append. A build that meets a
/// value it does not know stops applying (UnsupportedCommandException), so a new type may be proposed only once
/// every replica of the group runs a build that knows it.
/// </summary>
internal enum CommandType : byte
{
    /// <summary>Never written: a zero byte here is corruption, not a command.</summary>
    None = 0,

    /// <summary>A single-key write (<see cref="KvCommand"/>): put, delete or compare-and-swap, with its client session.</summary>
    Write = 1,

    /// <summary>Drop client-session dedupe rows last used before a cutoff (<see cref="ExpireSessionsCommand"/>).</summary>
    ExpireSessions = 2,
}
