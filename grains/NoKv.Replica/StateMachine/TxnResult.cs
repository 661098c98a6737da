using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Transactions;

namespace NoKv.Replica.StateMachine;

/// <summary>What a transactional command or read did, carried to the client as a <see cref="TxnResponse"/>.</summary>
internal sealed record TxnResult(NoKvErrorCode Code, TxnStatus Status = TxnStatus.Unknown, long CommitTs = 0, TxnLockInfo? Lock = null, byte[]? ConflictKey = null, string? Detail = null, byte[]? NextKey = null)
{
    public static readonly TxnResult Ok = new(NoKvErrorCode.Ok);

    public static TxnResult Locked(TxnLockInfo info) => new(NoKvErrorCode.KeyLocked, Lock: info, ConflictKey: info.Key);

    public static TxnResult Conflict(byte[] key, string detail) => new(NoKvErrorCode.WriteConflict, ConflictKey: key, Detail: detail);
}
