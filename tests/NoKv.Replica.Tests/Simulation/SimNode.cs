using System.Buffers;
using Microsoft.Extensions.Logging.Abstractions;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Grains.Raft;
using NoKv.Raft.Messages;
using NoKv.Replica.Controller.Operations;
using NoKv.Replica.Core;
using NoKv.Replica.Layout;
using NoKv.Storage;
using NoKv.Storage.Vfs;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// One simulated store: its engine on an in-memory file system and its replica cores (the bootstrap group and every
/// group a split created here), hosted the way the replica grains host them (virtual clocks instead of the system's,
/// the simulated network instead of grain calls). Messages cross the network encoded with the production Raft wire codec.
/// A crash keeps only what the engine synced (<see cref="MemFileSystem.CrashClone()"/>) and drops the running cores.
/// </summary>
internal sealed class SimNode
{
    private const string DbPath = "/store";
    private readonly ReplicaSimulation _sim;
    private readonly Dictionary<ShardId, ReplicaCore> _cores = new();
    private readonly Dictionary<ShardId, SemaphoreSlim> _adminGates = new();
    private MemFileSystem _fs = new();
    private Database? _db;
    private ShardId _primary;
    private int _generation;
    private ReplicaOptions? _options;

    // Small Raft batches for replicas this store has not opened (yet), the newest few per shard, as the replica grain
    // keeps them: delivered when the replica opens (a split's new half that campaigns at once needs its peers' votes).
    private const int EarlyBatches = 8;
    private const int EarlyBytes = 16 * 1024;
    private readonly Dictionary<ShardId, Queue<(StoreId From, byte[] Payload, int Count)>> _early = new();

    // When each other store was last heard from (any batch or beat), as the silo's Raft transport records it.
    private readonly Dictionary<StoreId, long> _heard = new();

    // While paused (a stopped process: SIGSTOP, a long GC pause), everything addressed to or sent by the store waits
    // here and no tick fires; null while it runs.
    private List<Action>? _held;

    public SimNode(ReplicaSimulation sim, StoreId store)
    {
        _sim = sim;
        Store = store;
    }

    public StoreId Store { get; }

    /// <summary>The replica of the bootstrap group (null while the store is down).</summary>
    public ReplicaCore? Core => _cores.GetValueOrDefault(_primary);

    /// <summary>Every replica the store runs now.</summary>
    public IReadOnlyCollection<ReplicaCore> Cores => _cores.Values;

    public bool IsUp => _db is not null;

    public bool IsPaused => _held is not null;

    public int Restarts { get; private set; }

    /// <summary>Plain writes this store's replicas acknowledged without an oracle block (marked unanchored), over every restart.</summary>
    public long UnanchoredWrites => _retiredUnanchored + _cores.Values.Sum(c => c.UnanchoredWrites);

    /// <summary>Anchor entries this store's replicas proposed, over every restart.</summary>
    public long AnchorProposals => _retiredAnchors + _cores.Values.Sum(c => c.AnchorProposals);

    /// <summary>Of those, writes of leaders that had no oracle block at all (new leaders, new epochs), over every restart.</summary>
    public long UnprimedWrites => _retiredUnprimed + _cores.Values.Sum(c => c.UnprimedWrites);

    private long _retiredUnanchored;
    private long _retiredUnprimed;
    private long _retiredAnchors;

    private readonly List<ReplicaCore> _closedCores = new();

    /// <summary>
    /// Replicas closed (by a crash or a merge) whose pump may still be in flight: it resumes once its engine write
    /// finishes, and the simulation waits for that like for a live pump's, so when it resumes never depends on timing.
    /// </summary>
    public int ClosedPumping()
    {
        _closedCores.RemoveAll(c => !c.IsPumping);
        return _closedCores.Count;
    }

    private void Retire(ReplicaCore core)
    {
        _closedCores.Add(core);
        _retiredUnanchored += core.UnanchoredWrites;
        _retiredUnprimed += core.UnprimedWrites;
        _retiredAnchors += core.AnchorProposals;
    }

    /// <summary>Oracle calls this store's replicas made (priming a leader's read floor, reserving stamps).</summary>
    public long OracleCalls { get; private set; }

    public Database Database => _db ?? throw new InvalidOperationException($"store {Store} is down");

    public ReplicaCore? CoreOf(ShardId shard) => _cores.GetValueOrDefault(shard);

    public void Heard(StoreId from) => _heard[from] = _sim.Now;

    public long LastHeardFrom(StoreId store) => _heard.TryGetValue(store, out long at) ? at : long.MinValue / 2;

    /// <summary>Opens the engine and every replica it holds, as the silo's replica starter does (a start or a restart after a crash).</summary>
    public async Task StartAsync(ShardDescriptor bootstrap, ReplicaOptions options)
    {
        _db = Database.Open(DbPath, new StorageOptions
        {
            FileSystem = _fs,
            MemtableSizeBytes = 64 << 10,
            UseMappedReads = false,
            BlockCacheBytes = 1 << 20,
            CommitAsyncWritesOnCallingThread = true,
        });
        _primary = bootstrap.Id;
        _options = options;
        _heard.Clear();
        int generation = ++_generation;
        try
        {
            await OpenAsync(bootstrap.Id, bootstrap, options, generation);
        }
        catch (ReplicaNotFoundException)
        {
            // The bootstrap group was merged into a neighbour (its tombstone keeps it from coming back).
        }

        foreach (var shard in LocalReplicas.List(_db))
        {
            if (shard != bootstrap.Id && !_cores.ContainsKey(shard))
            {
                try
                {
                    await OpenAsync(shard, null, options, generation);
                }
                catch (ReplicaNotFoundException)
                {
                    // A merge source whose last writes left a row behind its tombstone: gone, as the silo's starter skips it.
                }
            }
        }
    }

    private async Task OpenAsync(ShardId shard, ShardDescriptor? bootstrap, ReplicaOptions options, int generation)
    {
        var core = await ReplicaCore.OpenAsync(_db!, shard, Store, bootstrap, options, new Host(this, shard, generation), _sim.TraceReplicas ? new SimTraceLogger(_sim) : NullLogger.Instance, _sim.NextSeed());
        core.Failed += e => _sim.ReportFailure(Store, generation, e);
        core.Split += (left, right) =>
        {
            // Like the grain host: open the new group's replica once the split that created it is applied, and campaign
            // at once there if this store's replica of the split shard leads.
            bool campaign = core.IsLeader;
            _sim.Schedule(0, () =>
            {
                if (_generation == generation && !_cores.ContainsKey(right.Id))
                {
                    _ = OpenAfterSplitAsync(right.Id, options, generation, campaign);
                }
            });
        };
        core.Merged += (target, source, peer) => _sim.Schedule(0, () =>
        {
            // Like the grain host: the source's replica here is gone from the engine; close it and clear what it left.
            if (_generation == generation && _cores.Remove(source, out var closed))
            {
                Retire(closed);
                closed.Close();
                _ = DestroyWhenIdleAsync(closed, source, peer, generation);
            }
        });
        _cores[shard] = core;
        if (_early.Remove(shard, out var early))
        {
            foreach (var (from, payload, count) in early)
            {
                _ = core.DeliverAsync(from, RaftMessageCodec.ReadAll(payload, count));
            }
        }
    }

    private async Task OpenAfterSplitAsync(ShardId shard, ReplicaOptions options, int generation, bool campaign)
    {
        await OpenAsync(shard, null, options, generation);
        if (campaign && _generation == generation && _cores.TryGetValue(shard, out var core))
        {
            await core.CampaignAfterSplitAsync();
        }
    }

    /// <summary>Keeps a small batch for a replica this store does not run (yet) until it opens; drops the rest.</summary>
    public void HoldEarly(ShardId shard, StoreId from, byte[] payload, int count)
    {
        if (payload.Length > EarlyBytes)
        {
            return;
        }

        if (!_early.TryGetValue(shard, out var queue))
        {
            _early[shard] = queue = new Queue<(StoreId, byte[], int)>();
        }

        if (queue.Count == EarlyBatches)
        {
            queue.Dequeue();
        }

        queue.Enqueue((from, payload, count));
    }

    private async Task DestroyWhenIdleAsync(ReplicaCore closed, ShardId shard, ulong peer, int generation)
    {
        while (closed.IsPumping)
        {
            await _sim.Delay(1);
        }

        if (_generation == generation && _db is { } db)
        {
            await ReplicaDirectory.DestroyAsync(db, shard, peer);
        }
    }

    /// <summary>
    /// Serves the controller's "create a replica" as the replica grain does: an empty, uninitialized replica of peer
    /// <paramref name="peerId"/> that waits for the leader's snapshot; idempotent for the same peer, refused for another.
    /// </summary>
    public async Task<ReplicaAdminResult> CreateReplicaAsync(ShardDescriptor shard, ulong peerId)
    {
        return await UnderAdminGateAsync(shard.Id, () => CreateUnderGateAsync(shard, peerId));
    }

    /// <summary>
    /// As in the replica grain, the controller's create and destroy of one replica run one at a time: a destroy that
    /// ran while a create was opening the replica found no core to close, removed the rows, and left the core the
    /// create then opened running with no directory entry, out of orphan cleanup's sight (found by the soak).
    /// </summary>
    private async Task<ReplicaAdminResult> UnderAdminGateAsync(ShardId shard, Func<Task<ReplicaAdminResult>> operation)
    {
        if (!_adminGates.TryGetValue(shard, out var gate))
        {
            _adminGates[shard] = gate = new SemaphoreSlim(1, 1);
        }

        await gate.WaitAsync();
        try
        {
            return await operation();
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<ReplicaAdminResult> CreateUnderGateAsync(ShardDescriptor shard, ulong peerId)
    {
        if (_cores.TryGetValue(shard.Id, out var existing))
        {
            return existing.PeerId == peerId
                ? new ReplicaAdminResult(ReplicaAdminOutcome.AlreadyDone)
                : new ReplicaAdminResult(ReplicaAdminOutcome.Refused, $"store {Store} already holds peer {existing.PeerId} of shard {shard.Id}");
        }

        int generation = _generation;
        bool created;
        try
        {
            created = await ReplicaDirectory.CreateAsync(Database, shard, Store, peerId);
        }
        catch (ReplicaConflictException e)
        {
            return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, e.Message);
        }

        if (_generation != generation)
        {
            throw new TimeoutException($"store {Store} crashed while creating peer {peerId} of shard {shard.Id}");
        }

        if (!_cores.ContainsKey(shard.Id))
        {
            await OpenAsync(shard.Id, null, _options!, generation);
        }

        return new ReplicaAdminResult(created ? ReplicaAdminOutcome.Done : ReplicaAdminOutcome.AlreadyDone);
    }

    /// <summary>
    /// Serves the controller's "destroy peer" (and, with <paramref name="orphan"/>, "destroy orphan") as
    /// the replica grain does: refused by the same rules, else the replica is closed, its pump allowed to finish its
    /// engine write, and its rows deleted behind a tombstone.
    /// </summary>
    public async Task<ReplicaAdminResult> DestroyReplicaAsync(ShardId shard, ulong peerId, OrphanReplica? orphan = null)
    {
        return await UnderAdminGateAsync(shard, () => DestroyUnderGateAsync(shard, peerId, orphan));
    }

    private async Task<ReplicaAdminResult> DestroyUnderGateAsync(ShardId shard, ulong peerId, OrphanReplica? orphan)
    {
        int generation = _generation;
        if (orphan is { MergedAway: true } && !_cores.ContainsKey(shard) && _db is { } stopped
            && ReplicaAdministration.MergedAwayRefusal(stopped, shard, peerId, orphan.MapEpoch) is { } persistedRefusal)
        {
            return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, $"store {Store}: {persistedRefusal}");
        }

        if (_cores.TryGetValue(shard, out var core))
        {
            string? refusal = orphan switch
            {
                { MergedAway: true } => ReplicaAdministration.MergedAwayRefusal(core.PeerId, core.Descriptor, peerId, orphan.MapEpoch),
                not null => ReplicaAdministration.OrphanRefusal(core, peerId, orphan.MapConfVersion),
                null => null,
            };
            if ((refusal ?? ReplicaAdministration.DestroyRefusal(core, Database, peerId)) is { } reason)
            {
                return new ReplicaAdminResult(ReplicaAdminOutcome.Refused, $"store {Store}: {reason}");
            }

            _cores.Remove(shard);
            Retire(core);
            core.Close();
            while (core.IsPumping)
            {
                await _sim.Delay(1);
            }
        }

        if (_generation != generation || _db is not { } db)
        {
            throw new TimeoutException($"store {Store} crashed while destroying peer {peerId} of shard {shard}");
        }

        bool destroyed = await ReplicaDirectory.DestroyAsync(db, shard, peerId);
        return new ReplicaAdminResult(destroyed ? ReplicaAdminOutcome.Done : ReplicaAdminOutcome.AlreadyDone);
    }

    /// <summary>The replica's status as the grain reports it; peer id 0 when the store holds none.</summary>
    public ReplicaStatus Status(ShardId shard) => _cores.TryGetValue(shard, out var core)
        ? core.GetStatus($"sim-store-{Store}")
        : new ReplicaStatus
        {
            Replica = new ReplicaId(shard, Store),
            Role = ReplicaRole.Follower,
            Term = 0,
            CommitIndex = 0,
            AppliedIndex = 0,
            LastIndex = 0,
            FirstIndex = 0,
            Epoch = 0,
            SiloAddress = $"sim-store-{Store}",
        };

    /// <summary>The replicas this store holds on disk, as its heartbeat reports them (orphan cleanup reads these).</summary>
    public HeldReplica[] HeldReplicas() =>
        ReplicaDirectory.List(Database).Select(r => new HeldReplica(r.Shard, r.PeerId, r.Descriptor.ConfVersion, r.Initialized, r.Descriptor.Range, r.Descriptor.Epoch)).ToArray();

    /// <summary>Replicated data rows of user range [<paramref name="start"/>, <paramref name="end"/>) under engine prefix <paramref name="prefix"/>, for comparing the replicas of one shard.</summary>
    public SortedDictionary<string, string> ReadData(byte prefix, byte[] start, byte[] end)
    {
        var (from, to) = KeySpace.DataRange(prefix, start, end);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using var it = Database.NewIterator(new ReadOptions { LowerBound = from, UpperBound = to });
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            result[Convert.ToHexString(it.Key[1..])] = Convert.ToHexString(it.Value);
        }

        return result;
    }

    /// <summary>
    /// Stops the store as SIGSTOP would: its clock keeps running but nothing it does happens. Messages and calls
    /// addressed to it wait, messages it was about to send wait, and its ticks are lost, so on resume its Raft
    /// logical clock is behind the wall clock by the pause, as a real stopped process's is.
    /// </summary>
    public void Pause() => _held ??= new List<Action>();

    /// <summary>Lets the store run again: what waited happens now, in an order the seed picks.</summary>
    public void Resume()
    {
        if (_held is not { } held)
        {
            return;
        }

        _held = null;
        for (int i = held.Count - 1; i > 0; i--)
        {
            int j = _sim.Random.Next(i + 1);
            (held[i], held[j]) = (held[j], held[i]);
        }

        foreach (var action in held)
        {
            _sim.Schedule(0, action);
        }
    }

    /// <summary>Runs <paramref name="action"/> now, or when the store resumes if it is paused.</summary>
    public void RunOrHold(Action action)
    {
        if (_held is { } held)
        {
            held.Add(action);
        }
        else
        {
            action();
        }
    }

    /// <summary>Completes when the store runs (at once unless it is paused).</summary>
    public Task WhenRunningAsync()
    {
        if (_held is not { } held)
        {
            return Task.CompletedTask;
        }

        var resumed = new TaskCompletionSource();
        held.Add(resumed.SetResult);
        return resumed.Task;
    }

    /// <summary>Kills the store: unsynced engine data is lost, waiting clients are answered as a dropped connection would.</summary>
    public void Crash()
    {
        // A killed process no longer holds anything back: what waited for it is lost with it, or resumes as a
        // dropped connection (calls then find the store down).
        Resume();
        if (_db is null)
        {
            return;
        }

        _generation++;
        Restarts++;
        var survivor = _fs.CrashClone();
        foreach (var core in _cores.Values)
        {
            Retire(core);
            core.Close();
        }

        _cores.Clear();
        _early.Clear();

        // The process's locks die with it: a create or destroy that was inside when it crashed may never return.
        _adminGates.Clear();
        _db.Dispose();
        _db = null;
        _fs = survivor;
    }

    /// <summary>The replicated rows this store holds under engine prefix <paramref name="prefix"/>, for comparing replicas.</summary>
    public SortedDictionary<string, string> ReadAllData(byte prefix)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using var it = Database.NewIterator(new ReadOptions { LowerBound = [prefix], UpperBound = [(byte)(prefix + 1)] });
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            result[Convert.ToHexString(it.Key[1..])] = Convert.ToHexString(it.Value);
        }

        return result;
    }

    /// <summary>What a replica grain is to its core, for one group of this store.</summary>
    private sealed class Host : IReplicaHost
    {
        public bool UniformWriteCompletion => true;

        public bool ExportSnapshotsInline => true;

        private readonly SimNode _node;
        private readonly ShardId _shard;
        private readonly ArrayBufferWriter<byte> _buffer = new();

        public Host(SimNode node, ShardId shard, int generation)
        {
            _node = node;
            _shard = shard;
            _generation = generation;
        }

        // The store's life this replica belongs to: one closed by a crash sends nothing after the restart.
        private readonly int _generation;

        public long NowMs => _node._sim.Now;

        public long WallClockMs => 1_700_000_000_000 + _node._sim.Now;

        public bool Send(PeerDescriptor to, ReadOnlySpan<Message> messages)
        {
            if (!_node.IsUp || _node._generation != _generation)
            {
                return false;
            }

            _buffer.ResetWrittenCount();
            foreach (var message in messages)
            {
                RaftMessageCodec.Write(_buffer, message);
            }

            byte[] payload = _buffer.WrittenSpan.ToArray();
            int count = messages.Length;
            var network = _node._sim.Network;
            int generation = _node._generation;
            _node.RunOrHold(() =>
            {
                // Held while paused: a store killed meanwhile never sends it.
                if (_node._generation == generation && _node.IsUp)
                {
                    network.Send(_node.Store, to.Store, _shard, payload, count);
                }
            });
            return true;
        }

        public bool IsStoreAvailable(StoreId store) => _node._sim.Node(store).IsUp;

        public Task<long> GetOracleTimestampsAsync(int count)
        {
            _node.OracleCalls++;
            return _node._sim.OracleTimestampsAsync(_node.Store, count);
        }

        public long LastHeardFrom(StoreId store) => _node.LastHeardFrom(store);
    }
}
