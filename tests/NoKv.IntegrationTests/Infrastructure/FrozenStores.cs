using NoKv.Abstractions.Sharding;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// Stores whose replicas stop answering client requests, as a silo stopped with SIGSTOP would: requests reaching a
/// frozen store's replicas wait in <see cref="FreezeFilter"/> until <see cref="Thaw"/>. (Cut the store's Raft
/// traffic with <see cref="NetworkFaults.Isolate"/> as well, so its peers elect new leaders as they would.)
/// Counts the requests that arrived while frozen. Thread-safe.
/// </summary>
public sealed class FrozenStores
{
    private readonly object _gate = new();
    private readonly Dictionary<StoreId, TaskCompletionSource> _frozen = new();
    private int _held;

    /// <summary>Client requests that reached a frozen store and were held.</summary>
    public int Held => Volatile.Read(ref _held);

    public void Freeze(StoreId store)
    {
        lock (_gate)
        {
            _frozen.TryAdd(store, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
    }

    /// <summary>Releases every held request and unfreezes every store.</summary>
    public void Thaw()
    {
        lock (_gate)
        {
            foreach (var gate in _frozen.Values)
            {
                gate.TrySetResult();
            }

            _frozen.Clear();
        }
    }

    /// <summary>The task a request to <paramref name="store"/> must wait for, or null when the store is not frozen.</summary>
    public Task? Hold(StoreId store)
    {
        lock (_gate)
        {
            if (!_frozen.TryGetValue(store, out var gate))
            {
                return null;
            }

            _held++;
            return gate.Task;
        }
    }
}
