using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Transactions;

namespace NoKv.Replica.StateMachine;

/// <summary>What a transactional command or read did, carried to the client as a <see cref="TxnResponse"/>.</summary>
internal sealed record TxnResult(NoKvErrorCode Code, TxnStatus Status = TxnStatus.Unknown, long CommitTs = 0, TxnLockInfo? Lock = null, byte[]? ConflictKey = null, string? Detail = null, byte[]? NextKey = null)
{
    /// <summary>A collect slice: the shard's epoch when it applied.</summary>
    public long Epoch { get; init; }

    /// <summary>A collect slice: the oldest start timestamp of any lock it walked past (long.MaxValue: none).</summary>
    public long OldestLockTs { get; init; } = long.MaxValue;

    /// <summary>A collect slice: locks below the lock floor it walked past (bounded), for the leader to resolve.</summary>
    public IReadOnlyList<TxnLockInfo>? OldLocks { get; init; }

    /// <summary>A collect slice: status rows it dropped.</summary>
    public int StatusRowsCollected { get; init; }

    public static readonly TxnResult Ok = new(NoKvErrorCode.Ok);

    public static TxnResult Locked(TxnLockInfo info) => new(NoKvErrorCode.KeyLocked, Lock: info, ConflictKey: info.Key);

    public static TxnResult Conflict(byte[] key, string detail) => new(NoKvErrorCode.WriteConflict, ConflictKey: key, Detail: detail);
}
