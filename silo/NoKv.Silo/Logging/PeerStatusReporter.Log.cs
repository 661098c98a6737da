using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace NoKv.Silo.Logging;

public sealed partial class PeerStatusReporter
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Name} ({Silo}) is down: cluster membership declared it dead")]
    private partial void LogPeerDown(string name, SiloAddress silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Name} is back as {Silo}")]
    private partial void LogPeerBack(string name, SiloAddress silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Expected failures not logged while membership was changing: {Summary}")]
    private partial void LogSuppressed(string summary);
}
