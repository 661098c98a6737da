using NoKv.Resp.Commands;
using NoKv.Resp.Protocol;

namespace NoKv.Resp.Execution;

/// <summary>A command queued between MULTI and EXEC, with its own copy of its arguments.</summary>
internal sealed record QueuedCommand(CommandSpec Spec, RespRequest Args);
