namespace NoKv.Resp.Commands;

/// <summary>What COMMAND reports about a command, and what the dispatcher checks.</summary>
[Flags]
internal enum CommandFlags
{
    None = 0,
    Write = 1,
    ReadOnly = 2,
    Fast = 4,

    /// <summary>Runs before AUTH (AUTH, HELLO, QUIT).</summary>
    NoAuth = 8,

    /// <summary>Runs even inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT).</summary>
    Transaction = 16,
    Loading = 32,
    Stale = 64,
}
