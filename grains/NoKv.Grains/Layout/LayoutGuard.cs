using System.Text;
using NoKv.Grains.Store;
using NoKv.Storage;
using Orleans.Runtime;

namespace NoKv.Grains.Layout;

/// <summary>
/// Records the cluster layout a store was bootstrapped with (key <c>0x00 "layout"</c>, the layout
/// fingerprint in UTF-8) and refuses to start a store under a different one: silently changing shard
/// boundaries or replica sets under existing Raft groups would route keys to replicas that never held them.
/// Runs right after the store opens, before any replica can activate.
/// </summary>
public sealed class LayoutGuard : ILifecycleParticipant<ISiloLifecycle>
{
    private static readonly byte[] Key = [0x00, (byte)'l', (byte)'a', (byte)'y', (byte)'o', (byte)'u', (byte)'t'];
    private readonly LocalStore _store;
    private readonly ClusterLayout _layout;

    public LayoutGuard(LocalStore store, ClusterLayout layout)
    {
        _store = store;
        _layout = layout;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LayoutGuard), ServiceLifecycleStage.RuntimeInitialize + 1, CheckAsync);

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        var db = _store.Database;
        string current = _layout.Fingerprint;
        if (db.Get(Key) is { } stored)
        {
            string recorded = Encoding.UTF8.GetString(stored);
            if (recorded.StartsWith("v1;", StringComparison.Ordinal))
            {
                throw new StoreStartupException($"NoKV store {_store.Id} holds data in the v1 replica format (Raft node ids were store ids, no persisted shard descriptors); this build reads {ClusterLayout.FingerprintVersion} only. Start this store from an empty data directory (the other replicas re-replicate it) or run the release that wrote it.");
            }

            if (recorded.StartsWith("v2;", StringComparison.Ordinal))
            {
                throw new StoreStartupException($"NoKV store {_store.Id} holds user data in the v2 format (one plain row per key, before MVCC); this build reads {ClusterLayout.FingerprintVersion} only (docs/format-data-rows.md). Start this store from an empty data directory (the other replicas re-replicate it) or run the release that wrote it.");
            }

            if (!string.Equals(recorded, current, StringComparison.Ordinal))
            {
                throw new StoreStartupException($"NoKV store {_store.Id} was bootstrapped with cluster layout '{recorded}' but is now configured with '{current}'; every silo must keep the layout it was created with (Layout:Stores, Layout:InitialShards, Layout:ReplicationFactor, Layout:SplitKeys).");
            }

            return;
        }

        var batch = new WriteBatch();
        batch.Put(Key, Encoding.UTF8.GetBytes(current));
        await db.WriteAsync(batch, WriteOptions.Synced, cancellationToken);
    }
}
