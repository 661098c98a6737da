using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller;

/// <summary>
/// Where the controller group's voters are, as far as this process knows: the newest membership (conf version and
/// voter stores) seen in the group's own committed descriptor. The group's membership is replicated state, changed
/// only by committed conf changes (a controller replica move), so a newer conf version always describes a later
/// configuration and adopting only newer ones never goes back. Shared by every <see cref="ControllerGroupClient"/> of
/// a process (a silo's grains, the simulator's callers), so what one caller learns serves all of them.
/// <para>Starts from what the host knows: the list a silo persisted last (<see cref="Changed"/> is how it persists),
/// else the bootstrap layout (conf version 1). Thread-safe.</para>
/// </summary>
public sealed class ControllerMembership
{
    private readonly object _gate = new();
    private long _confVersion;
    private StoreId[] _stores;

    /// <param name="confVersion">The conf version <paramref name="stores"/> was read at (1 for the bootstrap layout; 0
    /// when unknown, so any descriptor the group reports replaces it).</param>
    public ControllerMembership(long confVersion, IReadOnlyList<StoreId> stores)
    {
        ArgumentNullException.ThrowIfNull(stores);
        if (stores.Count == 0)
        {
            throw new ArgumentException("The controller group needs at least one store.", nameof(stores));
        }

        _confVersion = confVersion;
        _stores = stores.ToArray();
    }

    /// <summary>Raised (outside the lock, on the adopting caller's thread) with each newer membership adopted.</summary>
    public event Action<long, StoreId[]>? Changed;

    /// <summary>The conf version of <see cref="Stores"/>.</summary>
    public long ConfVersion
    {
        get
        {
            lock (_gate)
            {
                return _confVersion;
            }
        }
    }

    /// <summary>The stores holding the group's voters at <see cref="ConfVersion"/>; never empty. The array is not changed later.</summary>
    public StoreId[] Stores
    {
        get
        {
            lock (_gate)
            {
                return _stores;
            }
        }
    }

    /// <summary>
    /// Adopts <paramref name="descriptor"/>'s voters if it is the controller group's descriptor at a newer conf version
    /// than the one held; true if adopted. A descriptor with no voter (an uninitialized replica's) is ignored.
    /// </summary>
    public bool Adopt(ShardDescriptor? descriptor)
    {
        if (descriptor is null || descriptor.Id != SystemShards.Controller || descriptor.Replicas.Length == 0)
        {
            return false;
        }

        StoreId[] stores;
        lock (_gate)
        {
            if (descriptor.ConfVersion <= _confVersion)
            {
                return false;
            }

            _confVersion = descriptor.ConfVersion;
            _stores = stores = descriptor.Replicas.ToArray();
        }

        Changed?.Invoke(descriptor.ConfVersion, stores);
        return true;
    }

    public override string ToString() => $"conf version {ConfVersion}: stores {string.Join(", ", Stores)}";
}
