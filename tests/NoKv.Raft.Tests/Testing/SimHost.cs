using System.Buffers.Binary;
using NoKv.Raft.Messages;
using NoKv.Raft.Storage;

namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// One simulated server: a <see cref="RawNode"/> driven exactly per the <see cref="Ready"/> contract,
/// its durable <see cref="MemoryRaftStorage"/>, a volatile <see cref="KvStateMachine"/>, and the
/// host's snapshot/compaction policy.
/// </summary>
/// <remarks>
/// <para>The Ready cycle: (1) persist snapshot, entries and hard state to the durable storage, taking
/// a random virtual disk latency when the Ready must be synced (with <see cref="SimOptions.LeaderSendsBeforePersist"/>,
/// the Ready's <see cref="Ready.MessagesBeforePersist"/> leave when the write starts); (2) only then send the messages;
/// (3) install the snapshot and apply committed entries to the state machine (ConfChange entries via
/// <see cref="RawNode.ApplyConfChange"/>), then serve reads whose index is applied; (4) Advance.
/// While a durable write is in flight the node takes no input (the RawNode forbids it): received
/// messages and ticks wait in an inbox, as they would in a real host's event loop.</para>
/// <para>Crash model: a crash discards the RawNode, the state machine, the inbox and any write still
/// in flight; a hard state written without sync (MustSync false: only the commit index moved) reverts
/// to the last synced one. Everything else in storage survives. A restart rebuilds the node from
/// storage and the state machine from the stored snapshot, and re-applies the committed log.</para>
/// <para>Every step reports to the cluster's <see cref="SafetyChecker"/> and <see cref="ClientLedger"/>.
/// Single-threaded, driven by the cluster's scheduler.</para>
/// </remarks>
public sealed class SimHost
{
    private readonly SimCluster _cluster;
    private readonly SimRandom _random;
    private readonly Queue<Message> _inbox = new();
    private readonly List<(ulong Index, ulong ReadId)> _pendingReads = [];
    private readonly List<(ulong To, bool Delivered)> _snapshotReports = [];
    private readonly HashSet<ulong> _unreachable = [];
    private readonly Dictionary<ulong, string> _readKeys = [];
    private readonly long _tickInterval;
    private HardState _syncedHardState;
    private bool _hardStateUnsynced;
    private ConfState _appliedConfState;
    private int _generation;
    private bool _persisting;
    private bool _paused;
    private bool _catchUpTicks;
    private int _deferredTicks;
    private ulong _completenessCheckedTerm;

    // Durable state-machine mode: the state machine image, applied index and membership as of the last
    // sync point (what survives a crash).
    private byte[]? _durableImage;
    private ulong _durableApplied;
    private ConfState? _durableConf;

    internal SimHost(SimCluster cluster, ulong id, MemoryRaftStorage storage, SimRandom random, long tickInterval)
    {
        _cluster = cluster;
        Id = id;
        Storage = storage;
        _random = random;
        _tickInterval = tickInterval;
        _appliedConfState = storage.InitialState().ConfState;
        _syncedHardState = storage.HardState;
    }

    public ulong Id { get; }

    /// <summary>The durable state: what survives a crash.</summary>
    public MemoryRaftStorage Storage { get; }

    /// <summary>The running node, or null while crashed.</summary>
    public RawNode? Node { get; private set; }

    public KvStateMachine StateMachine { get; } = new();

    public bool IsUp => Node is not null;

    /// <summary>The membership as of the applied index (what a snapshot taken now records).</summary>
    public ConfState AppliedConfState => _appliedConfState;

    public long Ticks { get; private set; }

    public int Restarts { get; private set; }

    public int SnapshotsTaken { get; private set; }

    public int SnapshotsInstalled { get; private set; }

    /// <summary>Messages this host sent while its own durable write was still in flight (<see cref="SimOptions.LeaderSendsBeforePersist"/>).</summary>
    public long MessagesSentBeforePersist { get; private set; }

    /// <summary>Leader as this node sees it in its current term (false when down).</summary>
    public bool IsLeader => Node is { IsLeader: true };

    public ulong Term => Node?.Term ?? Storage.HardState.Term;

    /// <summary>Starts (or restarts) the node from durable storage.</summary>
    public void Start()
    {
        if (Node is not null)
        {
            throw new InvalidOperationException($"node {Id} is already running");
        }

        var snapshot = Storage.Snapshot();
        if (_cluster.Options.IsDurableStateMachine && _durableImage is not null && _durableApplied > snapshot.Metadata.Index)
        {
            // The durable state machine is ahead of the last Raft snapshot: resume from it; the library
            // delivers committed entries from Applied + 1, under the membership recorded with it.
            StateMachine.Restore(_durableApplied, _durableImage);
            _appliedConfState = _durableConf!;
            Storage.SetConfState(_durableConf!, _durableApplied);
        }
        else
        {
            StateMachine.Restore(snapshot.Metadata.Index, snapshot.Data.Span);
            _appliedConfState = snapshot.Metadata.ConfState;
            if (_cluster.Options.IsDurableStateMachine)
            {
                // The membership recorded by applies after the snapshot was never made durable (the crash
                // lost them with the state machine's tail): resume with the snapshot's.
                Storage.SetConfState(_appliedConfState, snapshot.Metadata.Index);
            }
        }

        _cluster.Checker.ObserveSnapshotRestored(Id, StateMachine.AppliedIndex, StateMachine.Digest, restart: true);
        if (StateMachine.AppliedIndex > 0)
        {
            _cluster.Checker.ObserveMembershipRestored(Id, StateMachine.AppliedIndex, _appliedConfState.ToString());
        }

        _syncedHardState = Storage.HardState;
        _hardStateUnsynced = false;
        _completenessCheckedTerm = 0;
        _cluster.Checker.ObserveRestart(Id, _syncedHardState.Term, _syncedHardState.Commit);

        var options = _cluster.Options;
        Node = new RawNode(
            new RaftConfig
            {
                Id = Id,
                ElectionTick = options.ElectionTick,
                HeartbeatTick = options.HeartbeatTick,
                PreVote = options.IsPreVote,
                CheckQuorum = options.IsCheckQuorum,
                ReadOnlyOption = options.ReadOnlyOption,
                MaxSizePerMsg = options.MaxSizePerMsg,
                MaxInflightMsgs = options.MaxInflightMsgs,
                SnapshotChunkSize = options.SnapshotChunkSize,
                LazyCommitPropagation = options.IsLazyCommitPropagation,
                Random = new Random((int)(_random.NextUInt64() & int.MaxValue)),
                Applied = StateMachine.AppliedIndex,
            },
            Storage);
        _cluster.Trace($"start {Id} term={Storage.HardState.Term} vote={Storage.HardState.Vote} commit={Storage.HardState.Commit} "
            + $"snapshot={snapshot.Metadata.Index} applied={StateMachine.AppliedIndex} log=[{Storage.FirstIndex()}..{Storage.LastIndex()}] conf={_appliedConfState}");

        var generation = ++_generation;
        _cluster.Scheduler.After(_random.NextInRange(1, _tickInterval), () => TickLoop(generation));
        Pump();
    }

    /// <summary>Kills the process: volatile state and in-flight writes are lost.</summary>
    public void Crash()
    {
        if (Node is null)
        {
            return;
        }

        _generation++;
        Node = null;
        _persisting = false;
        _paused = false;
        _inbox.Clear();
        _deferredTicks = 0;
        _pendingReads.Clear();
        _readKeys.Clear();
        _snapshotReports.Clear();
        _unreachable.Clear();
        if (_hardStateUnsynced)
        {
            Storage.SetHardState(_syncedHardState);
            _hardStateUnsynced = false;
        }

        Restarts++;
        _cluster.Trace($"crash {Id} durable term={Storage.HardState.Term} vote={Storage.HardState.Vote} commit={Storage.HardState.Commit} "
            + $"log=[{Storage.FirstIndex()}..{Storage.LastIndex()}]");
        _cluster.Ledger.Crashed(Id);
    }

    /// <summary>A message arrived from the network.</summary>
    internal void Deliver(Message message)
    {
        if (Node is null)
        {
            return;
        }

        _inbox.Enqueue(message);
        Pump();
    }

    /// <summary>Proposes a write; null when the node is down or busy persisting (the client retries).</summary>
    public ProposalResult? Propose(KvCommand command)
    {
        if (Node is null || _persisting || _paused)
        {
            return null;
        }

        var result = Node.Propose(command.Encode());
        _cluster.Trace($"propose {Id} op={command.OpId} key={command.Key} -> {result.Status} {result.Term}/{result.Index} hint={result.LeaderHint}");
        if (result.IsAccepted)
        {
            _cluster.Ledger.Proposed(Id, result.Index, result.Term, command);
        }

        ObserveRole();
        Pump();
        return result;
    }

    public ProposalResult? ProposeConfChange(ConfChange change)
    {
        if (Node is null || _persisting || _paused)
        {
            return null;
        }

        var result = Node.ProposeConfChange(change);
        _cluster.Trace($"propose-conf {Id} {change.Type} {change.NodeId} -> {result.Status} {result.Term}/{result.Index} {result.Reason}");
        Pump();
        return result;
    }

    /// <summary>Starts a read of <paramref name="key"/>; returns the ledger's read id, or null if the node cannot take it now.</summary>
    public ulong? Read(string key, ReadOnlyOption mode)
    {
        if (Node is null || _persisting || _paused)
        {
            return null;
        }

        var readId = _cluster.Ledger.StartRead(Id, key);
        if (_cluster.Options.BrokenHostServesLocalReads)
        {
            // Deliberately broken host (harness self-test): answers from its own state machine without
            // confirming leadership, which a deposed leader or lagging follower gets wrong.
            _cluster.Ledger.CompleteRead(readId, StateMachine.AppliedIndex, StateMachine.Get(key), StateMachine.AppliedIndex);
            return readId;
        }

        var context = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(context, readId);
        _readKeys[readId] = key;
        var result = Node.ReadIndex(context, mode);
        _cluster.Trace($"read {Id} id={readId} key={key} mode={mode} -> {result.Status}");
        if (!result.IsAccepted)
        {
            _cluster.Ledger.AbandonRead(readId);
            _readKeys.Remove(readId);
        }

        Pump();
        return result.IsAccepted ? readId : null;
    }

    public ProposalResult? TransferLeadership(ulong transferee)
    {
        if (Node is null || _persisting || _paused)
        {
            return null;
        }

        var result = Node.TransferLeadership(transferee);
        _cluster.Trace($"transfer {Id} -> {transferee}: {result.Status} {result.Reason}");
        Pump();
        return result;
    }

    /// <summary>Starts an election now (the test's equivalent of an expired timer).</summary>
    public void Campaign()
    {
        if (Node is null || _persisting || _paused)
        {
            return;
        }

        Node.Campaign();
        ObserveRole();
        Pump();
    }

    /// <summary>
    /// Freezes the process for <paramref name="duration"/> (a GC or VM pause): no ticks, no input
    /// handled; messages queue up. On resume, missed ticks are delivered before anything else when
    /// <paramref name="catchUpTicks"/>, as docs/raft.md requires of hosts serving lease reads.
    /// </summary>
    public void Pause(long duration, bool catchUpTicks)
    {
        if (Node is null || _paused)
        {
            return;
        }

        _paused = true;
        _catchUpTicks = catchUpTicks;
        _cluster.Trace($"pause {Id} for {duration}ms catch-up={catchUpTicks}");
        var generation = _generation;
        _cluster.Scheduler.After(duration, () =>
        {
            if (generation != _generation)
            {
                return;
            }

            _paused = false;
            _cluster.Trace($"resume {Id} deferred-ticks={_deferredTicks} inbox={_inbox.Count}");
            Pump();
        });
    }

    private void TickLoop(int generation)
    {
        if (generation != _generation || Node is null)
        {
            return;
        }

        Ticks++;
        if (_paused)
        {
            // A paused process misses its timer; a host that catches up delivers the missed ticks first
            // thing on resume (before any read), one that does not simply loses them.
            if (_catchUpTicks)
            {
                _deferredTicks++;
            }

            _cluster.Scheduler.After(_tickInterval, () => TickLoop(generation));
            return;
        }

        _deferredTicks++;
        if (_cluster.TraceEnabled)
        {
            _cluster.Trace($"tick {Id} #{Ticks} {Node.Role} term={Node.Term}{(_persisting ? " (deferred: write in flight)" : string.Empty)}");
        }

        Pump();
        var drift = _cluster.Drift(Id);
        var interval = drift == 0 ? _tickInterval : Math.Max(1, (long)Math.Round(_tickInterval * (1 + drift)));

        _cluster.Scheduler.After(interval, () => TickLoop(generation));
    }

    /// <summary>Feeds queued input to the node and handles Readies until it is idle or a write is in flight.</summary>
    private void Pump()
    {
        while (Node is not null && !_persisting && !_paused)
        {
            if (Node.HasReady())
            {
                HandleReady(Node.GetReady());
                continue;
            }

            if (_deferredTicks > 0)
            {
                _deferredTicks--;
                Node.Tick();
                ObserveRole();
                continue;
            }

            if (_inbox.TryDequeue(out var message))
            {
                Node.Step(message);
                ObserveRole();
                continue;
            }

            break;
        }
    }

    private void ObserveRole()
    {
        if (Node is { IsLeader: true } node)
        {
            _cluster.Checker.ObserveLeader(Id, node.Term);
        }
    }

    private void HandleReady(Ready rd)
    {
        var node = Node!;
        if (rd.SoftState is { } soft)
        {
            _cluster.Trace($"role {Id} {soft.Role} term={node.Term} lead={soft.Lead}");
            if (soft.Role is StateRole.Leader or StateRole.Candidate && !node.ConfState.Voters.Contains(Id))
            {
                throw new SafetyViolationException("membership", $"node {Id} became {soft.Role} in term {node.Term} but is not a voter in {node.ConfState}");
            }
        }

        var needsWrite = rd.Snapshot is not null || !rd.Entries.IsEmpty || rd.HardState is not null;
        var latency = _cluster.Options.MaxDiskLatency;
        if (needsWrite && rd.MustSync && latency > 0)
        {
            _persisting = true;
            if (_cluster.Options.BrokenHostSendsBeforePersist)
            {
                // Deliberately broken host (harness self-test): acknowledges before its write is durable.
                foreach (var message in rd.Messages.Span)
                {
                    _cluster.Send(message);
                }

                rd.Messages = default;
            }
            else if (_cluster.Options.IsLeaderSendsBeforePersist && rd.MessagesBeforePersist > 0)
            {
                // Allowed by the Ready contract: a leader's replication messages overlap its own write.
                foreach (var message in rd.Messages.Span[..rd.MessagesBeforePersist])
                {
                    SendOne(message);
                }

                MessagesSentBeforePersist += rd.MessagesBeforePersist;
                rd.Messages = rd.Messages[rd.MessagesBeforePersist..];
            }

            var generation = _generation;
            _cluster.Scheduler.After(_random.NextInRange(0, latency), () =>
            {
                if (generation != _generation)
                {
                    return;
                }

                Persist(rd);
                _persisting = false;
                Finish(rd);
                Pump();
            });
            return;
        }

        if (needsWrite)
        {
            Persist(rd);
        }

        Finish(rd);
    }

    private void Persist(Ready rd)
    {
        if (rd.Snapshot is { } snapshot)
        {
            Storage.ApplySnapshot(snapshot);
            _cluster.Trace($"persist {Id} snapshot {snapshot.Metadata.Index}/{snapshot.Metadata.Term} conf={snapshot.Metadata.ConfState}");
        }

        if (!rd.Entries.IsEmpty)
        {
            Storage.Append(rd.Entries.Span);
            foreach (var entry in rd.Entries.Span)
            {
                _cluster.Checker.ObservePersisted(Id, ToLogged(entry), Storage.Term(entry.Index - 1));
            }

            if (_cluster.TraceEnabled)
            {
                var entries = rd.Entries.Span;
                _cluster.Trace($"persist {Id} entries {entries[0].Term}/{entries[0].Index}..{entries[^1].Term}/{entries[^1].Index}");
            }
        }

        if (rd.HardState is { } hs)
        {
            _cluster.Checker.ObserveHardState(Id, hs.Term, hs.Vote, hs.Commit);
            Storage.SetHardState(hs);
            _cluster.Trace($"persist {Id} hardstate term={hs.Term} vote={hs.Vote} commit={hs.Commit}{(rd.MustSync ? " sync" : string.Empty)}");
        }

        if (rd.MustSync)
        {
            _syncedHardState = Storage.HardState;
            _hardStateUnsynced = false;
            SyncStateMachine();
        }
        else if (rd.HardState is not null)
        {
            _hardStateUnsynced = true;
        }
    }

    private void Finish(Ready rd)
    {
        var node = Node!;
        foreach (var message in rd.Messages.Span)
        {
            SendOne(message);
        }

        if (rd.Snapshot is { } snapshot)
        {
            StateMachine.Restore(snapshot.Metadata.Index, snapshot.Data.Span);
            _appliedConfState = snapshot.Metadata.ConfState;
            SnapshotsInstalled++;

            // Installing a snapshot replaces the stored state machine durably (an ingest is synced).
            SyncStateMachine();
            _cluster.Checker.ObserveSnapshotRestored(Id, snapshot.Metadata.Index, StateMachine.Digest, restart: false);
            _cluster.Checker.ObserveMembershipRestored(Id, snapshot.Metadata.Index, _appliedConfState.ToString());
            _cluster.Trace($"install {Id} snapshot {snapshot.Metadata.Index} digest={StateMachine.Digest:x16}");
        }

        foreach (var entry in rd.CommittedEntries.Span)
        {
            var command = StateMachine.Apply(entry.Index, entry.Term, (byte)entry.Type, entry.Data.Span);
            _cluster.Checker.ObserveApplied(Id, node.Term, ToLogged(entry), StateMachine.Digest);
            if (entry.Type == EntryType.ConfChange)
            {
                var change = ConfChange.Decode(entry.Data);
                _appliedConfState = node.ApplyConfChange(change);
                if (entry.Term > 0)
                {
                    // Term-0 entries are the bootstrap membership: founders already hold all of it, while a
                    // joiner replaying them builds it up one member at a time, so they are not compared.
                    _cluster.Checker.ObserveMembershipApplied(Id, entry.Index, _appliedConfState.ToString());
                }
                if (_cluster.Options.IsDurableStateMachine)
                {
                    // As the API asks: record the membership with the applied index (it becomes durable with
                    // the state machine at the next sync point; SyncStateMachine keeps its own copy).
                    Storage.SetConfState(_appliedConfState, entry.Index);
                }

                _cluster.Trace($"apply {Id} {entry.Term}/{entry.Index} conf {change.Type} {change.NodeId} -> {_appliedConfState}");
            }

            _cluster.Ledger.Applied(Id, entry.Index, entry.Term, command);
        }

        if (_cluster.TraceEnabled && !rd.CommittedEntries.IsEmpty)
        {
            var committed = rd.CommittedEntries.Span;
            _cluster.Trace($"apply {Id} {committed[0].Index}..{committed[^1].Index} digest={StateMachine.Digest:x16}");
        }

        foreach (var read in rd.ReadStates.Span)
        {
            var readId = BinaryPrimitives.ReadUInt64LittleEndian(read.RequestCtx.Span);
            _pendingReads.Add((read.Index, readId));
            _cluster.Trace($"readstate {Id} id={readId} index={read.Index}");
        }

        node.Advance(rd);

        ServeReads();
        foreach (var (to, delivered) in _snapshotReports)
        {
            node.ReportSnapshot(to, delivered ? SnapshotStatus.Finish : SnapshotStatus.Failure);
        }

        _snapshotReports.Clear();
        foreach (var to in _unreachable)
        {
            node.ReportUnreachable(to);
        }

        _unreachable.Clear();
        MaybeSnapshot();
        if (node.IsLeader && node.Term > _completenessCheckedTerm)
        {
            _completenessCheckedTerm = node.Term;
            _cluster.Checker.CheckLeaderCompleteness(Id, node.Term, Storage.FirstIndex(), EntryAt);
        }
    }

    private void SendOne(in Message message)
    {
        var sent = _cluster.Send(message);
        if (message.Type == MessageType.Snapshot)
        {
            _snapshotReports.Add((message.To, sent));
        }
        else if (!sent && message.Type == MessageType.Append)
        {
            _unreachable.Add(message.To);
        }
    }

    private void ServeReads()
    {
        for (var i = 0; i < _pendingReads.Count; i++)
        {
            var (index, readId) = _pendingReads[i];
            if (index > StateMachine.AppliedIndex)
            {
                continue;
            }

            if (_readKeys.Remove(readId, out var key))
            {
                var value = StateMachine.Get(key);
                _cluster.Trace($"served {Id} id={readId} key={key} index={index} applied={StateMachine.AppliedIndex} value=op{value}");
                _cluster.Ledger.CompleteRead(readId, index, value, StateMachine.AppliedIndex);
            }

            _pendingReads.RemoveAt(i--);
        }
    }

    private void MaybeSnapshot()
    {
        var threshold = _cluster.Options.SnapshotThreshold;
        var applied = StateMachine.AppliedIndex;
        var snapshotIndex = Storage.FirstIndex() - 1;
        if (threshold <= 0 || applied < snapshotIndex + (ulong)threshold)
        {
            return;
        }

        var data = StateMachine.TakeSnapshot();
        Storage.CreateSnapshot(applied, _appliedConfState, data);
        Storage.Compact(applied);
        SnapshotsTaken++;

        // Writing a snapshot is a sync point: the durable hard state now includes the commit index
        // that covers it, so a restart never finds commit below its snapshot.
        _syncedHardState = Storage.HardState;
        _hardStateUnsynced = false;
        SyncStateMachine();
        _cluster.Trace($"snapshot {Id} at {applied} conf={_appliedConfState} digest={StateMachine.Digest:x16}");
    }

    /// <summary>A sync point in durable state-machine mode: everything applied so far becomes durable.</summary>
    private void SyncStateMachine()
    {
        if (!_cluster.Options.IsDurableStateMachine || StateMachine.AppliedIndex == _durableApplied)
        {
            return;
        }

        _durableImage = StateMachine.TakeSnapshot();
        _durableApplied = StateMachine.AppliedIndex;
        _durableConf = _appliedConfState;
    }

    private LoggedEntry? EntryAt(ulong index)
    {
        if (index < Storage.FirstIndex() || index > Storage.LastIndex())
        {
            return null;
        }

        var entries = new List<Entry>(1);
        Storage.Entries(index, index + 1, ulong.MaxValue, entries);
        return ToLogged(entries[0]);
    }

    private static LoggedEntry ToLogged(in Entry entry) => new(entry.Index, entry.Term, (byte)entry.Type, entry.Data);
}
