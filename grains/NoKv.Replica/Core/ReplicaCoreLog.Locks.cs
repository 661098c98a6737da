using Microsoft.Extensions.Logging;

namespace NoKv.Replica.Core;

internal static partial class ReplicaCoreLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica}: the lease of lock {Lock} (token {Token}) ran out on this leader's clock; proposing its expiry")]
    public static partial void LockLeaseExpired(ILogger logger, string replica, string @lock, long token);
}
