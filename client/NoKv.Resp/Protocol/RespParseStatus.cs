namespace NoKv.Resp.Protocol;

/// <summary>What one parse attempt found at the front of the input.</summary>
internal enum RespParseStatus
{
    /// <summary>A whole command was parsed into the request and consumed from the input.</summary>
    Complete,

    /// <summary>The input ends inside a command; nothing was consumed.</summary>
    Incomplete,

    /// <summary>An empty command (a blank inline line, *0 or *-1) was consumed; there is nothing to run.</summary>
    Empty,

    /// <summary>The input breaks the protocol or a limit; the connection is answered with the error and closed.</summary>
    Error,
}
