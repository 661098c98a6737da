using NoKv.Raft;
using NoKv.Raft.Messages;
using NoKv.Raft.Storage;

namespace NoKv.Benchmarks.Raft;

/// <summary>
/// Three RawNodes wired together in one thread: no network, no disk, no clock. Messages go into a
/// per-node inbox and are stepped on the next pump; each Ready is persisted to the node's
/// MemoryRaftStorage before its messages are queued, as the RawNode contract requires. Nodes never
/// tick (no timeouts can fire), so once node 1 is elected it stays leader for the whole run.
/// Not thread-safe: one thread owns the cluster.
/// </summary>
public sealed class InMemoryRaftCluster
{
    public const int Size = 3;

    /// <summary>Entries kept behind the lowest applied index when trimming the in-memory logs.</summary>
    private const ulong CompactionMargin = 1024;

    private readonly RawNode[] _nodes = new RawNode[Size];
    private readonly MemoryRaftStorage[] _storages = new MemoryRaftStorage[Size];
    private readonly Queue<Message>[] _inboxes = new Queue<Message>[Size];
    private readonly ulong[] _applied = new ulong[Size];
    private ulong _compactedTo;

    public InMemoryRaftCluster(int seed)
    {
        for (var i = 0; i < Size; i++)
        {
            var id = (ulong)(i + 1);
            _storages[i] = new MemoryRaftStorage(new ConfState(1, 2, 3));
            _inboxes[i] = new Queue<Message>(1024);
            _nodes[i] = new RawNode(new RaftConfig
            {
                Id = id,
                ElectionTick = 10,
                HeartbeatTick = 1,
                Random = new Random(seed + i),
                MaxSizePerMsg = 1 << 20,
                MaxInflightMsgs = 256,
                // Pump steps every message of a Ready before its sender's next GetReady, which is what this
                // option requires (a transport that serializes on send does the same): entry arrays are recycled.
                ReuseMessageEntryBuffers = true,
            }, _storages[i]);
        }
    }

    public RawNode Leader => _nodes[0];

    /// <summary>Normal, non-empty entries the leader has seen committed (and applied) so far.</summary>
    public long CommittedProposals { get; private set; }

    /// <summary>Elects node 1 and lets the new term's empty entry commit everywhere.</summary>
    public void ElectLeader()
    {
        _nodes[0].Campaign();
        for (var round = 0; round < 1000 && !(_nodes[0].IsLeader && IsQuiescent()); round++)
        {
            Pump();
        }
        if (!_nodes[0].IsLeader)
        {
            throw new InvalidOperationException("node 1 did not become leader");
        }
    }

    /// <summary>
    /// One round: every node with pending work handles one Ready (persist, queue messages, apply,
    /// Advance), then every queued message is stepped into its target. Returns false when there was
    /// nothing to do.
    /// </summary>
    public bool Pump()
    {
        var progressed = false;
        for (var i = 0; i < Size; i++)
        {
            var node = _nodes[i];
            if (!node.HasReady())
            {
                continue;
            }
            progressed = true;
            var ready = node.GetReady();
            var storage = _storages[i];
            storage.Append(ready.Entries.Span);
            if (ready.HardState is { } hardState)
            {
                storage.SetHardState(hardState);
            }
            foreach (var message in ready.Messages.Span)
            {
                _inboxes[(int)message.To - 1].Enqueue(message);
            }
            var committed = ready.CommittedEntries.Span;
            if (!committed.IsEmpty)
            {
                if (i == 0)
                {
                    foreach (ref readonly var entry in committed)
                    {
                        if (entry.Type == EntryType.Normal && !entry.Data.IsEmpty)
                        {
                            CommittedProposals++;
                        }
                    }
                }
                _applied[i] = committed[^1].Index;
            }
            node.Advance(ready);
        }
        for (var i = 0; i < Size; i++)
        {
            var inbox = _inboxes[i];
            var node = _nodes[i];
            while (inbox.TryDequeue(out var message))
            {
                node.Step(message);
                progressed = true;
            }
        }
        CompactIfDue();
        return progressed;
    }

    /// <summary>Pumps until no node has work left (bounded, so a livelock shows up as an exception).</summary>
    public void Drain()
    {
        for (var round = 0; round < 100_000; round++)
        {
            if (!Pump())
            {
                return;
            }
        }
        throw new InvalidOperationException("the cluster did not go quiet within 100,000 rounds");
    }

    /// <summary>True when every node has committed and applied the leader's whole log.</summary>
    public bool IsConverged()
    {
        var last = _nodes[0].LastIndex;
        for (var i = 0; i < Size; i++)
        {
            if (_nodes[i].CommitIndex != last || _applied[i] != last)
            {
                return false;
            }
        }
        return true;
    }

    private bool IsQuiescent()
    {
        for (var i = 0; i < Size; i++)
        {
            if (_inboxes[i].Count > 0 || _nodes[i].HasReady())
            {
                return false;
            }
        }
        return IsConverged();
    }

    /// <summary>
    /// Keeps the in-memory logs bounded (so the measurement sees the replication path, not List
    /// growth): trims every log to the lowest index applied on all nodes, minus a margin. Every node
    /// has applied those entries, so no follower can need them again.
    /// </summary>
    private void CompactIfDue()
    {
        var lowest = Math.Min(_applied[0], Math.Min(_applied[1], _applied[2]));
        if (lowest < _compactedTo + (4 * CompactionMargin))
        {
            return;
        }
        var target = lowest - CompactionMargin;
        for (var i = 0; i < Size; i++)
        {
            _storages[i].Compact(target);
        }
        _compactedTo = target;
    }
}
