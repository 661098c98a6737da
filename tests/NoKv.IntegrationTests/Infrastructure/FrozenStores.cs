using NoKv.Abstractions.Sharding;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// Stores whose replicas stop answering client requests, as a silo stopped with SIGSTOP would: requests reaching a
/// frozen store's replicas wait in <see cref="FreezeFilter"/> until <see cref="Thaw"/>. (Cut the store's Raft
/// traffic with <see cref="NetworkFaults.Isolate"/> as well, so its peers elect new leaders as they would.)
/// Records the requests that arrived while frozen. Thread-safe.
/// </summary>
public sealed class FrozenStores
{
    private readonly object _gate = new();
    private readonly Dictionary<StoreId, TaskCompletionSource> _frozen = new();
    private readonly List<HeldRequest> _held = new();

    /// <summary>
    /// Every request that reached a frozen store and was held, in arrival order: those of clients, and those the
    /// silos send to the controller group's replicas there (<see cref="HeldRequest.ToSystemGroup"/>).
    /// </summary>
    public IReadOnlyList<HeldRequest> Held
    {
        get
        {
            lock (_gate)
            {
                return _held.ToArray();
            }
        }
    }

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

    /// <summary>The task a request to <paramref name="replica"/> must wait for, or null when its store is not frozen.</summary>
    public Task? Hold(ReplicaId replica, string kind)
    {
        lock (_gate)
        {
            if (!_frozen.TryGetValue(replica.Store, out var gate))
            {
                return null;
            }

            _held.Add(new HeldRequest(replica, kind));
            return gate.Task;
        }
    }
}
