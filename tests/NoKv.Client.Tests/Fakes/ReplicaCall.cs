using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Tests.Fakes;

/// <summary>
/// One request a fake replica received: where it went, the write's session when it was a write, and the write itself;
/// for a batched write call ("write-batch"), its writes in order; for a transactional call ("txn-..."), its request.
/// </summary>
internal sealed record ReplicaCall(ReplicaId Replica, string Kind, ClientSession? Session, WriteRequest? Write = null, WriteRequest[]? Batch = null, NoKv.Abstractions.Transactions.TxnRequest? Txn = null)
{
    public StoreId Store => Replica.Store;

    public ShardId Shard => Replica.Shard;
}
