using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Raft;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.Client.Tests.Fakes;

/// <summary>
/// The replica grains of a fake cluster. Every request is recorded in <see cref="Calls"/> and answered by
/// <see cref="Respond"/>, which a test sets: it may answer at once, never (a frozen silo: a task that does not
/// complete), later (a task the test completes), or throw (a dead silo). Gets return the key as value.
/// </summary>
internal sealed class FakeReplicas
{
    private readonly List<ReplicaCall> _calls = new();

    public Func<ReplicaCall, Task<ReplicaAnswer>> Respond { get; set; } = _ => Task.FromResult(ReplicaAnswer.Ok);

    /// <summary>
    /// Answers each write of a batched call ("write-batch") whose call <see cref="Respond"/> answered Ok; null: every
    /// write gets the call's answer.
    /// </summary>
    public Func<WriteRequest, ReplicaAnswer>? RespondBatchEntry { get; set; }

    /// <summary>Answers lock requests (recorded in <see cref="Calls"/> as "lock-acquire", "lock-renew", ...).</summary>
    public Func<NoKv.Abstractions.Locks.LockRequest, Task<NoKv.Abstractions.Locks.LockResponse>> RespondLock { get; set; } =
        _ => throw new NotSupportedException("set RespondLock to answer lock requests");

    /// <summary>Answers transactional requests (recorded in <see cref="Calls"/> as "txn-get", "txn-prewrite", ...).</summary>
    public Func<NoKv.Abstractions.Transactions.TxnRequest, Task<NoKv.Abstractions.Transactions.TxnResponse>> RespondTxn { get; set; } =
        _ => throw new NotSupportedException("set RespondTxn to answer transactional requests");

    public IReadOnlyList<ReplicaCall> Calls
    {
        get
        {
            lock (_calls)
            {
                return _calls.ToArray();
            }
        }
    }

    /// <summary>The stores called, in order, for <paramref name="shard"/> (all shards when null).</summary>
    public int[] StoresCalled(ShardId? shard = null) =>
        Calls.Where(c => shard is null || c.Shard == shard).Select(c => c.Store.Value).ToArray();

    public void ClearCalls()
    {
        lock (_calls)
        {
            _calls.Clear();
        }
    }

    /// <summary>What gets answer with: the value's expiry and the replica's clock (0: no expiry).</summary>
    public long ExpiresAtMs { get; set; }

    public long ServedAtMs { get; set; }

    public IShardReplicaGrain Grain(string key) =>
        ReplicaId.TryParse(key, out var id) ? new Replica(this, id) : throw new ArgumentException($"not a replica key: {key}");

    private async Task<ReplicaAnswer> ReceiveAsync(ReplicaCall call)
    {
        lock (_calls)
        {
            _calls.Add(call);
        }

        return await Respond(call);
    }

    private sealed class Replica(FakeReplicas owner, ReplicaId id) : IShardReplicaGrain
    {
        public async Task<WriteResponse> WriteAsync(WriteRequest request, CancellationToken cancellationToken = default)
        {
            var answer = await owner.ReceiveAsync(new ReplicaCall(id, "write", request.Session, request));
            return new WriteResponse { Code = answer.Code, LeaderHint = answer.Hint, Succeeded = answer.Code == Abstractions.Errors.NoKvErrorCode.Ok, CurrentEpoch = request.Epoch, CurrentShards = answer.Current };
        }

        public async Task<WriteResponse[]> WriteBatchAsync(WriteRequest[] requests, CancellationToken cancellationToken = default)
        {
            var batchAnswer = await owner.ReceiveAsync(new ReplicaCall(id, "write-batch", null, null, requests));
            return Array.ConvertAll(requests, r =>
            {
                var answer = batchAnswer.Code == Abstractions.Errors.NoKvErrorCode.Ok && owner.RespondBatchEntry is { } each ? each(r) : batchAnswer;
                return new WriteResponse { Code = answer.Code, LeaderHint = answer.Hint, Succeeded = answer.Code == Abstractions.Errors.NoKvErrorCode.Ok, CurrentEpoch = r.Epoch };
            });
        }

        public async Task<ReadResponse> GetAsync(ReadRequest request, CancellationToken cancellationToken = default)
        {
            var answer = await owner.ReceiveAsync(new ReplicaCall(id, "get", null));
            return new ReadResponse { Code = answer.Code, LeaderHint = answer.Hint, Value = request.Key, CurrentEpoch = request.Epoch, ExpiresAtMs = owner.ExpiresAtMs, ServedAtMs = owner.ServedAtMs, CurrentShards = answer.Current };
        }

        public async Task<NoKv.Abstractions.Transactions.TxnResponse> TxnAsync(NoKv.Abstractions.Transactions.TxnRequest request, CancellationToken cancellationToken = default)
        {
            lock (owner._calls)
            {
                owner._calls.Add(new ReplicaCall(id, "txn-" + request.Op.ToString().ToLowerInvariant(), null, Txn: request));
            }

            return await owner.RespondTxn(request);
        }

        public Task<NoKv.Abstractions.Controller.TimestampResponse> TimestampsAsync(int count, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public async Task<NoKv.Abstractions.Locks.LockResponse> LockAsync(NoKv.Abstractions.Locks.LockRequest request, CancellationToken cancellationToken = default)
        {
            lock (owner._calls)
            {
                owner._calls.Add(new ReplicaCall(id, "lock-" + request.Kind.ToString().ToLowerInvariant(), null));
            }

            return await owner.RespondLock(request);
        }

        public async Task<ScanResponse> ScanAsync(ScanRequest request, CancellationToken cancellationToken = default)
        {
            var answer = await owner.ReceiveAsync(new ReplicaCall(id, "scan", null));
            return new ScanResponse { Code = answer.Code, LeaderHint = answer.Hint, CurrentEpoch = request.Epoch };
        }

        public Task DeliverAsync(RaftMessageBatch batch) => throw new NotSupportedException();

        public Task<ReplicaStatus> GetStatusAsync() => throw new NotSupportedException();

        public Task StartAsync() => throw new NotSupportedException();

        public Task StartAfterSplitAsync(bool campaign) => throw new NotSupportedException();

        public Task<ReplicaAdminResult> CreateReplicaAsync(ShardDescriptor shard, ulong peerId) => throw new NotSupportedException();

        public Task<WriteResponse> ChangeMembershipAsync(MembershipChangeKind kind, PeerDescriptor peer, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<WriteResponse> TransferLeaderAsync(StoreId store) => throw new NotSupportedException();

        public Task<ReplicaAdminResult> DestroyReplicaAsync(ulong peerId) => throw new NotSupportedException();

        public Task<ReplicaAdminResult> DestroyOrphanAsync(ulong peerId, long mapConfVersion) => throw new NotSupportedException();

        public Task<ReplicaAdminResult> DestroyMergedAwayOrphanAsync(ulong peerId, long mapEpoch) => throw new NotSupportedException();

        public Task<WriteResponse> SplitAsync(NoKv.Abstractions.Requests.SplitShardRequest request) => throw new NotSupportedException();

        public Task<byte[]?> GetMiddleKeyAsync() => throw new NotSupportedException();

        public Task<WriteResponse> MergeAsync(NoKv.Abstractions.Requests.MergeShardRequest request) => throw new NotSupportedException();
    }
}
