using NoKv.Abstractions.Errors;

namespace NoKv.Client.Transactions;

/// <summary>Keys grouped for one shard no longer share a shard in the current map: regroup and send again.</summary>
internal sealed class ShardMapChangedException : NoKvException
{
    public ShardMapChangedException(string message)
        : base(NoKvErrorCode.InvalidRange, message)
    {
    }
}
