using NoKv.Raft.Messages;
using NoKv.Raft.Storage;

namespace NoKv.Raft.Tests.Core;

/// <summary>
/// A minimal synchronous cluster for unit tests: every node's Ready is persisted into its
/// MemoryRaftStorage, messages go into a shared queue, and <see cref="Deliver"/> routes them,
/// honouring a drop filter. Deterministic: a fixed seed per node, FIFO delivery.
/// (The full fault-injecting simulation lives under Simulation/; this one only serves Core tests.)
/// </summary>
internal sealed class TestCluster
{
    private readonly Dictionary<ulong, MemoryRaftStorage> storages = new();
    private readonly Queue<Message> inFlight = new();

    /// <param name="storageView">What a node reads its storage through (e.g. a wrapper that hands out snapshots as
    /// payloads); the cluster still persists into the <see cref="MemoryRaftStorage"/>. Null: the storage itself.</param>
    public TestCluster(int voters, Func<ulong, RaftConfig>? configure = null, int learners = 0, Func<ulong, MemoryRaftStorage, IRaftStorage>? storageView = null)
    {
        this.storageView = storageView ?? ((_, storage) => storage);
        var voterIds = Enumerable.Range(1, voters).Select(i => (ulong)i).ToArray();
        var learnerIds = Enumerable.Range(voters + 1, learners).Select(i => (ulong)i).ToArray();
        var conf = new ConfState(voterIds, learnerIds);
        Configure = configure ?? (id => DefaultConfig(id));
        foreach (var id in voterIds.Concat(learnerIds))
        {
            storages[id] = MemoryRaftStorage.CreateBootstrapped(conf);
            Nodes[id] = new RawNode(Configure(id), this.storageView(id, storages[id]));
        }
    }

    private readonly Func<ulong, MemoryRaftStorage, IRaftStorage> storageView;

    public Func<ulong, RaftConfig> Configure { get; }

    public Dictionary<ulong, RawNode> Nodes { get; } = new();

    public Dictionary<ulong, List<Entry>> Applied { get; } = new();

    public Dictionary<ulong, List<ReadState>> Reads { get; } = new();

    /// <summary>Return true to drop a message.</summary>
    public Func<Message, bool> Drop { get; set; } = _ => false;

    /// <summary>Every message that was delivered (after the drop filter), for assertions.</summary>
    public List<Message> Delivered { get; } = new();

    /// <summary>Snapshot data the state machine would export, per node; used when a test compacts.</summary>
    public Func<ulong, ReadOnlyMemory<byte>> SnapshotData { get; set; } = _ => new byte[] { 1, 2, 3 };

    public List<Snapshot> InstalledSnapshots { get; } = new();

    public static RaftConfig DefaultConfig(ulong id, int seed = 0) => new()
    {
        Id = id,
        ElectionTick = 10,
        HeartbeatTick = 1,
        Random = new Random(seed * 1000 + (int)id),
        MaxSizePerMsg = 1 << 20,
        MaxInflightMsgs = 256,
    };

    public MemoryRaftStorage Storage(ulong id) => storages[id];

    public RawNode this[ulong id] => Nodes[id];

    public void AddNode(ulong id, ConfState conf)
    {
        storages[id] = MemoryRaftStorage.CreateBootstrapped(conf);
        Nodes[id] = new RawNode(Configure(id), storageView(id, storages[id]));
    }

    /// <summary>Simulates a crash and restart: the node is rebuilt from its storage (unsynced state never existed here).</summary>
    public void Restart(ulong id)
    {
        var applied = Applied.TryGetValue(id, out var list) && list.Count > 0 ? list[^1].Index : 0;
        var snapIndex = storages[id].Snapshot().Metadata.Index;
        Nodes[id] = new RawNode(Configure(id) with { Applied = Math.Max(applied, snapIndex) }, storageView(id, storages[id]));
    }

    /// <summary>Processes every node's Ready once (persist, queue messages, apply). Returns true if any work was done.</summary>
    public bool ProcessReadies()
    {
        var any = false;
        foreach (var (id, node) in Nodes)
        {
            if (!node.HasReady())
            {
                continue;
            }

            any = true;
            var rd = node.GetReady();
            var storage = storages[id];
            if (rd.Snapshot is { } snap)
            {
                storage.ApplySnapshot(snap);
                InstalledSnapshots.Add(snap);
            }

            storage.Append(rd.Entries.Span);
            if (rd.HardState is { } hs)
            {
                storage.SetHardState(hs);
            }

            foreach (var m in rd.Messages.Span)
            {
                inFlight.Enqueue(m);
            }

            var applied = Applied.TryGetValue(id, out var l) ? l : Applied[id] = new List<Entry>();
            foreach (var e in rd.CommittedEntries.Span)
            {
                applied.Add(e);
                if (e.Type == EntryType.ConfChange)
                {
                    var cs = node.ApplyConfChange(ConfChange.Decode(e.Data));
                    storage.SetConfState(cs, e.Index);
                }
            }

            var reads = Reads.TryGetValue(id, out var r) ? r : Reads[id] = new List<ReadState>();
            reads.AddRange(rd.ReadStates.ToArray());
            node.Advance(rd);
        }

        return any;
    }

    /// <summary>Delivers queued messages (and the work they cause) until quiet or the step budget runs out.</summary>
    public void Deliver(int maxSteps = 100_000)
    {
        for (var i = 0; i < maxSteps; i++)
        {
            var worked = ProcessReadies();
            if (inFlight.Count == 0)
            {
                if (!worked)
                {
                    return;
                }

                continue;
            }

            while (inFlight.Count > 0)
            {
                var m = inFlight.Dequeue();
                if (Drop(m) || !Nodes.TryGetValue(m.To, out var target))
                {
                    continue;
                }

                Delivered.Add(m);
                target.Step(m);
            }
        }

        throw new InvalidOperationException("The cluster did not quiesce.");
    }

    /// <summary>Takes messages out of the queue without delivering them (lets a test inspect or reorder).</summary>
    public List<Message> TakeInFlight()
    {
        ProcessReadies();
        var list = inFlight.ToList();
        inFlight.Clear();
        return list;
    }

    public void Enqueue(Message m) => inFlight.Enqueue(m);

    public void TickAll(int ticks = 1)
    {
        for (var t = 0; t < ticks; t++)
        {
            foreach (var node in Nodes.Values)
            {
                node.Tick();
            }

            Deliver();
        }
    }

    /// <summary>Makes node <paramref name="id"/> leader by campaigning and delivering.</summary>
    public RawNode Elect(ulong id)
    {
        Nodes[id].Campaign();
        Deliver();
        if (!Nodes[id].IsLeader)
        {
            throw new InvalidOperationException($"Node {id} failed to become leader (role {Nodes[id].Role}, term {Nodes[id].Term}).");
        }

        return Nodes[id];
    }

    public IEnumerable<Entry> AppliedData(ulong id) =>
        Applied.TryGetValue(id, out var l) ? l.Where(e => e.Type == EntryType.Normal && !e.Data.IsEmpty) : [];

    /// <summary>The host-side snapshot+compaction a real state machine would do, at the node's applied index.</summary>
    /// <remarks>Only at the applied index: the node's ConfState is the membership as of that index, and a snapshot must
    /// carry the membership of its own index (RAFT-BUGS #3).</remarks>
    public void Compact(ulong id, ulong index)
    {
        if (index != Nodes[id].AppliedIndex)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Snapshot only at node {id}'s applied index {Nodes[id].AppliedIndex}.");
        }

        var storage = storages[id];
        storage.CreateSnapshot(index, Nodes[id].ConfState, SnapshotData(id));
        storage.Compact(index);
    }
}
