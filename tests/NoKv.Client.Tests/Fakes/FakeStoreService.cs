using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Routing;
using NoKv.Abstractions.Sharding;

namespace NoKv.Client.Tests.Fakes;

/// <summary>
/// The store service behind one fake gateway: says which store it hosts, or (frozen) never answers, or (dead)
/// throws. Counts the discovery questions it got. Requests are not served: route tests only discover.
/// </summary>
internal sealed class FakeStoreService(StoreId store) : IStoreService
{
    private int _describes;

    public StoreId Store { get; set; } = store;

    public bool Frozen { get; set; }

    public bool Dead { get; set; }

    public int Describes => Volatile.Read(ref _describes);

    public Task<StoreId> DescribeAsync()
    {
        Interlocked.Increment(ref _describes);
        if (Dead)
        {
            return Task.FromException<StoreId>(new InvalidOperationException("connection refused"));
        }

        return Frozen ? new TaskCompletionSource<StoreId>().Task : Task.FromResult(Store);
    }

    public Task<WriteResponse> WriteAsync(StoreId store, WriteRequest request) => throw new NotSupportedException();

    public Task<WriteResponse[]> WriteBatchAsync(StoreId store, WriteRequest[] requests) => throw new NotSupportedException();

    public Task<ReadResponse> GetAsync(StoreId store, ReadRequest request) => throw new NotSupportedException();

    public Task<ScanResponse> ScanAsync(StoreId store, ScanRequest request) => throw new NotSupportedException();

    public Task<NoKv.Abstractions.Transactions.TxnResponse> TxnAsync(StoreId store, NoKv.Abstractions.Transactions.TxnRequest request) => throw new NotSupportedException();

    public Task<NoKv.Abstractions.Locks.LockResponse> LockAsync(StoreId store, NoKv.Abstractions.Locks.LockRequest request) => throw new NotSupportedException();
}
