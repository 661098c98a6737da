using NoKv.Resp.Server;
using NoKv.Resp.Protocol;

namespace NoKv.Resp.Commands;

/// <summary>A command that is not a pure key transition (connection state, server info, SCAN, transactions); it writes its own reply.</summary>
internal delegate ValueTask CommandHandler(RespConnection connection, RespRequest args);
