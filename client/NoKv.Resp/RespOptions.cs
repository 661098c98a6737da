using System.Net;

namespace NoKv.Resp;

/// <summary>
/// Settings of the Redis-protocol gateway. Every limit bounds what one client can make the gateway buffer or
/// hold; input beyond a limit gets a Redis-style error, never a crash.
/// </summary>
public sealed class RespOptions
{
    /// <summary>Whether the gateway listens at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Address to bind; loopback by default (the gateway has no TLS, see docs/resp.md).</summary>
    public string BindAddress { get; set; } = IPAddress.Loopback.ToString();

    /// <summary>TCP port; 0 picks a free port (tests), read back from <see cref="RespServer.LocalEndPoint"/>.</summary>
    public int Port { get; set; } = 6379;

    /// <summary>Connections served at once; one more is told "max number of clients reached" and closed.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Largest bulk string (a key or a value) a request may carry. Redis's proto-max-bulk-len.</summary>
    public int MaxBulkBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>The store's key size limit (the SDK's MaxKeyBytes); SCAN needs it to resume after a key of the largest size.</summary>
    public int MaxKeyBytes { get; set; } = NoKv.Abstractions.Requests.KvLimits.DefaultMaxKeyBytes;

    /// <summary>Most arguments in one request (command name included).</summary>
    public int MaxArguments { get; set; } = 64 * 1024;

    /// <summary>Largest request, all its bulk strings together.</summary>
    public int MaxRequestBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Longest inline (telnet-style) command line.</summary>
    public int MaxInlineBytes { get; set; } = 64 * 1024;

    /// <summary>Most commands queued between MULTI and EXEC.</summary>
    public int MaxQueuedCommands { get; set; } = 10_000;

    /// <summary>When set, clients must AUTH (or HELLO ... AUTH) with it before any other command.</summary>
    public string? Password { get; set; }

    /// <summary>How long an unfinished SCAN cursor stays valid on the gateway that issued it.</summary>
    public TimeSpan ScanCursorLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Most unfinished SCAN cursors kept; the oldest is forgotten first when full.</summary>
    public int MaxScanCursors { get; set; } = 100_000;

    /// <summary>Most keys one SCAN call examines whatever COUNT asks for.</summary>
    public int MaxScanCount { get; set; } = 10_000;
}
