using System.Collections.Concurrent;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Diagnostics;

/// <summary>
/// The last <see cref="Capacity"/> <see cref="ReplicaEvent"/>s of one store's replicas, newest last, for the HTTP API's
/// recent events. Events are rare (elections, snapshots, failures), so a lock is fine. One per store id in the process.
/// Thread-safe.
/// </summary>
public sealed class ReplicaEventLog
{
    public const int Capacity = 256;

    private static readonly ConcurrentDictionary<StoreId, ReplicaEventLog> Stores = new();

    private readonly Queue<ReplicaEvent> _events = new();

    public static ReplicaEventLog For(StoreId store) => Stores.GetOrAdd(store, static _ => new ReplicaEventLog());

    public void Add(ReplicaEvent e)
    {
        lock (_events)
        {
            _events.Enqueue(e);
            if (_events.Count > Capacity)
            {
                _events.Dequeue();
            }
        }
    }

    /// <summary>Events newer than <paramref name="sinceUnixMs"/>, oldest first.</summary>
    public ReplicaEvent[] Since(long sinceUnixMs)
    {
        lock (_events)
        {
            var result = new List<ReplicaEvent>(_events.Count);
            foreach (var e in _events)
            {
                if (e.UnixMs > sinceUnixMs)
                {
                    result.Add(e);
                }
            }

            return result.ToArray();
        }
    }
}
