using NoKv.Abstractions.Transactions;

namespace NoKv.Abstractions.Requests;

/// <summary>A response that may report a transaction lock blocking the request (code KeyLocked).</summary>
public interface ILockedResponse
{
    TxnLockInfo? Lock { get; }
}
