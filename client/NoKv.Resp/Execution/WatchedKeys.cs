using NoKv.Client.Transactions;

namespace NoKv.Resp.Execution;

/// <summary>
/// The keys one WATCH named, read by a transaction of their own at the WATCH's timestamp. EXEC asks that transaction
/// to validate its reads up to the start of the transaction EXEC runs (<see cref="ITransaction.ValidateReadsAsync"/>):
/// any version of a watched key committed after the WATCH fails it, as any write to a watched key makes Redis's EXEC
/// fail. The transaction only reads, so it holds nothing on the store and needs no cleanup when forgotten.
/// </summary>
internal sealed record WatchedKeys(ITransaction Reads, IReadOnlyList<byte[]> Keys);
