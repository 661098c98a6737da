using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace NoKv.Resp.Server;

public sealed partial class RespServer
{
    internal static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "RESP gateway listening on {EndPoint}")]
        public static partial void Listening(ILogger logger, IPEndPoint endPoint);

        [LoggerMessage(2, LogLevel.Warning, "RESP gateway could not accept a connection ({Error}): {Message}")]
        public static partial void AcceptFailed(ILogger logger, SocketError error, string message);

        [LoggerMessage(3, LogLevel.Debug, "RESP client {ClientId} closed with a protocol error: {Error}")]
        public static partial void ProtocolError(ILogger logger, long clientId, string error);

        [LoggerMessage(4, LogLevel.Error, "RESP client {ClientId}: command {Command} failed unexpectedly")]
        public static partial void CommandFailed(ILogger logger, Exception exception, long clientId, string command);

        [LoggerMessage(5, LogLevel.Debug, "RESP client {ClientId} connection lost: {Message}")]
        public static partial void ConnectionLost(ILogger logger, long clientId, string message);
    }
}
