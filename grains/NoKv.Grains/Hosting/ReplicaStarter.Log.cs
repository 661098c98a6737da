using Microsoft.Extensions.Logging;

namespace NoKv.Grains.Hosting;

public sealed partial class ReplicaStarter
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Store {Store}: started {Count} replica(s)")]
    private partial void LogStarted(int store, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} failed to start; it will activate on its next message")]
    private partial void LogStartFailed(string replica, Exception exception);
}
