using NoKv.Resp.Execution;
using NoKv.Resp.Protocol;

namespace NoKv.Resp.Commands;

/// <summary>A data command as a pure function of its arguments and the current values of its keys.</summary>
internal delegate RespReply KeyTransition(RespRequest args, KeyView view);
