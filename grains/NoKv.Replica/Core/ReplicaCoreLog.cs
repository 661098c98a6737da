using Microsoft.Extensions.Logging;

namespace NoKv.Replica.Core;

/// <summary>The replica core's log messages.</summary>
internal static partial class ReplicaCoreLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} opened: applied {Applied}, last index {LastIndex}, term {Term}, {Shard}")]
    public static partial void Opened(ILogger logger, string replica, ulong applied, ulong lastIndex, ulong term, string shard);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica}: state machine at {Applied} is behind the log's compaction point {Truncated}; resetting it to catch up from the leader")]
    public static partial void StateMachineReset(ILogger logger, string replica, ulong applied, ulong truncated);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica {Replica} failed; it restarts from its persisted state")]
    public static partial void Fatal(ILogger logger, string replica, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica {Replica} stopped applying: {Reason}. It keeps its log and votes; it serves again once restarted on a build that reads the entry")]
    public static partial void ApplyHalted(ILogger logger, string replica, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica} ignored message {Message}: {Reason}")]
    public static partial void StepRejected(ILogger logger, string replica, string message, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica} dropped a message for peer {To} from peer {From}: not this incarnation")]
    public static partial void MisaddressedMessage(ILogger logger, string replica, ulong to, ulong from);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} installed a snapshot at index {Index}: {Shard}")]
    public static partial void SnapshotInstalled(ILogger logger, string replica, ulong index, string shard);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} exported a snapshot at index {Index} for a follower: {Bytes} bytes in {Milliseconds} ms")]
    public static partial void SnapshotExported(ILogger logger, string replica, ulong index, long bytes, long milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} applied membership change {Change} of peer {Peer}: {Conf}; {Shard}")]
    public static partial void MembershipChanged(ILogger logger, string replica, string change, ulong peer, string conf, string shard);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica} compacted its log through index {Index}")]
    public static partial void Compacted(ILogger logger, string replica, ulong index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} hands leadership to {Peer}: {Result}")]
    public static partial void LeaderTransfer(ILogger logger, string replica, string peer, string result);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} sheds leadership (its store's disk is slow) to {Peer}: {Result}")]
    public static partial void LeaderShed(ILogger logger, string replica, string peer, string result);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} is {Role} in term {Term}, leader peer {Leader}")]
    public static partial void RoleChanged(ILogger logger, string replica, string role, ulong term, ulong leader);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} applied a split: now {Left}; new {Right}")]
    public static partial void SplitApplied(ILogger logger, string replica, string left, string right);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} applied a merge: now {Target}; shard {Source} (peer {Peer} here) merged in")]
    public static partial void MergeApplied(ILogger logger, string replica, string target, long source, ulong peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} waits to apply a merge: {Reason}")]
    public static partial void MergeWaiting(ILogger logger, string replica, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica} hibernating: {Hibernating} ({Reason})")]
    public static partial void Hibernation(ILogger logger, string replica, bool hibernating, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica}: the store of leader peer {Leader} ({Store}) is silent; forgetting it and campaigning soon")]
    public static partial void LeaderStoreSilent(ILogger logger, string replica, ulong leader, int store);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica}: GC could not resolve an old lock of transaction {StartTs} ({Error}: {Detail}); the next round tries again")]
    public static partial void GcResolveFailed(ILogger logger, string replica, long startTs, string error, string detail);
}
