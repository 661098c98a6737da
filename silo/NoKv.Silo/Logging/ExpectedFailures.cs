using System.Net.Sockets;
using NoKv.Abstractions.Errors;

namespace NoKv.Silo.Logging;

/// <summary>
/// Recognises the exceptions a healthy cluster sees whenever a peer silo is down or restarting: refused or
/// reset connections, a silo Orleans already knows is gone, a store with no live silo. They describe the
/// peer, not a bug here, so their stack traces say nothing; anything not listed keeps its full detail.
/// Orleans' transport types are matched by name because several are internal to Orleans.
/// </summary>
public static class ExpectedFailures
{
    private static readonly HashSet<string> PeerUnreachableTypes = new(StringComparer.Ordinal)
    {
        "Orleans.Runtime.Messaging.ConnectionFailedException",
        "Orleans.Networking.Shared.SocketConnectionException",
        "Orleans.Runtime.SiloUnavailableException",
    };

    private static readonly HashSet<string> ConnectionDroppedTypes = new(StringComparer.Ordinal)
    {
        "Microsoft.AspNetCore.Connections.ConnectionResetException",
        "Microsoft.AspNetCore.Connections.ConnectionAbortedException",
    };

    // Orleans' placement message when no active silo can host a grain (for a replica: its store's silo is gone).
    private const string NoCompatibleSilo = "No active nodes are compatible with grain";

    /// <summary>True if <paramref name="exception"/> (or one it wraps) says a peer is down or its connection dropped.</summary>
    public static bool IsExpected(Exception? exception) => Classify(exception, depth: 0);

    /// <summary>True if a log message names a peer-unreachable exception in its text (Orleans sometimes formats the exception into the message).</summary>
    public static bool IsMentioned(string message)
    {
        foreach (var type in PeerUnreachableTypes)
        {
            if (message.Contains(type, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return message.Contains(nameof(StoreUnavailableException), StringComparison.Ordinal) || message.Contains(NoCompatibleSilo, StringComparison.Ordinal);
    }

    /// <summary><paramref name="text"/> up to its first stack frame, on one line.</summary>
    public static string WithoutStackTrace(string text)
    {
        int frame = text.IndexOf("\n   at ", StringComparison.Ordinal);
        if (frame >= 0)
        {
            text = text[..frame];
        }

        return text.ReplaceLineEndings(" ").Trim();
    }

    private static bool Classify(Exception? exception, int depth)
    {
        if (exception is null || depth > 8)
        {
            return false;
        }

        string name = exception.GetType().FullName ?? "";
        if (PeerUnreachableTypes.Contains(name) || ConnectionDroppedTypes.Contains(name) || exception is StoreUnavailableException)
        {
            return true;
        }

        // Placement with no silo left for a replica's store: its silo is down or stopping (Orleans retries this
        // through Polly, which logs every attempt, then fails the message).
        if (exception is Orleans.Runtime.OrleansException && exception.Message.StartsWith(NoCompatibleSilo, StringComparison.Ordinal))
        {
            return true;
        }

        // Orleans' connection handshake when the peer closes mid-preamble (a silo stopping or restarting).
        if (exception is InvalidOperationException && exception.Message == "Connection terminated prematurely")
        {
            return true;
        }

        // NotConnected: a connect racing the peer's death can fail with ENOTCONN ("Transport endpoint is not connected").
        if (exception is SocketException socket && socket.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset
            or SocketError.ConnectionAborted or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.Shutdown
            or SocketError.NotConnected)
        {
            return true;
        }

        // Orleans rejects a message it could not send with the cause flattened into the text, or because its target
        // is already known to be dead.
        if (name == "Orleans.Runtime.OrleansMessageRejectionException" && exception.InnerException is null)
        {
            return IsMentioned(exception.Message) || exception.Message.Contains("target silo is no longer active", StringComparison.Ordinal);
        }

        if (exception is AggregateException aggregate)
        {
            foreach (var inner in aggregate.InnerExceptions)
            {
                if (!Classify(inner, depth + 1))
                {
                    return false;
                }
            }

            return aggregate.InnerExceptions.Count > 0;
        }

        return Classify(exception.InnerException, depth + 1);
    }
}
