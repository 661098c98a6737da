using System.Buffers;
using System.Buffers.Binary;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Raft;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Raft;
using NoKv.Replica.Commands;
using NoKv.Replica.Log;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;
using NoKv.Raft;
using NoKv.Raft.Messages;
using NoKv.Storage;
using Snapshot = NoKv.Raft.Messages.Snapshot;

namespace NoKv.Grains.Replica;

public sealed partial class ShardReplicaGrain
{
    // Work queued for the pump by other turns. Drained only outside a Ready.
    private readonly List<Message> _messageInbox = new();
    private readonly List<ProposalWaiter> _proposalInbox = new();
    private readonly List<ReadWaiter> _readInbox = new();
    private int _pendingTicks;

    // Waiters the Raft node has accepted.
    private readonly Dictionary<ulong, ProposalWaiter> _proposals = new();
    private readonly Dictionary<long, ReadWaiter> _pendingReads = new();
    private readonly List<ReadWaiter> _readsAwaitingApply = new();
    private readonly List<ApplyOutcome> _outcomes = new();
    private WriteBatch _readyBatch = new();
    private readonly Dictionary<ulong, ArrayBufferWriter<byte>> _outgoing = new();
    private readonly Dictionary<ulong, int> _outgoingCounts = new();
    private long _nextReadId;

    // Client waiters in arrival order, for ExpireWaiters. Every waiter gets the same timeout, so deadlines only grow
    // along each queue; completed waiters leave when they reach the head.
    private readonly Queue<ProposalWaiter> _proposalDeadlines = new();
    private readonly Queue<ReadWaiter> _readDeadlines = new();

    private bool _pumping;
    private bool _failed;
    private long _lastLeaderContact;
    private Snapshot? _cachedSnapshot;

    private int _ticksSinceBalance;

    // Peers whose store had no live silo at the last tick; refreshed once per tick so sending stays cheap.
    private readonly HashSet<StoreId> _downPeers = new();

    // Grain references to the peer replicas, by Raft node id. GetGrain resolves the interface's attributes by
    // reflection on every call (6% of a silo's CPU in the write benchmark when done per send); a reference
    // is immutable and stays valid across the peer's deactivations, so one per peer is enough.
    private readonly Dictionary<ulong, IShardReplicaGrain> _peers = new();

    private long _ticksSinceSessionExpiry;

    private Task OnTickAsync()
    {
        ExpireWaiters(Environment.TickCount64);
        RefreshDownPeers();
        MaybeExpireSessions();
        _pendingTicks++;
        return PumpAsync();
    }

    /// <summary>
    /// Answers Timeout to client waiters whose deadline has passed (so within a tick of RequestTimeout). A timed-out
    /// write stays proposed: it may still commit, and the client's retry with the same session sequence gets the
    /// recorded outcome. A timed-out read is forgotten.
    /// </summary>
    private void ExpireWaiters(long now)
    {
        while (_proposalDeadlines.TryPeek(out var proposal) && (proposal.IsCompleted || proposal.Deadline <= now))
        {
            _proposalDeadlines.Dequeue();
            proposal.Complete(NoKvErrorCode.Timeout, false, 0);
        }

        while (_readDeadlines.TryPeek(out var read) && (read.IsCompleted || read.Deadline <= now))
        {
            _readDeadlines.Dequeue();
            if (!read.IsCompleted)
            {
                _pendingReads.Remove(read.Id);
                _readsAwaitingApply.Remove(read);
                read.Complete(NoKvErrorCode.Timeout);
            }
        }
    }

    /// <summary>The leader proposes dropping idle sessions' dedupe rows about every five minutes (or every TTL/4 if shorter).</summary>
    private void MaybeExpireSessions()
    {
        long every = Math.Max(1, (long)(Math.Min(TimeSpan.FromMinutes(5).Ticks, _options.SessionTtl.Ticks / 4) / _options.TickInterval.Ticks));
        if (++_ticksSinceSessionExpiry < every || !_node.IsLeader)
        {
            return;
        }

        _ticksSinceSessionExpiry = 0;
        long cutoff = DateTimeOffset.UtcNow.Add(-_options.SessionTtl).ToUnixTimeMilliseconds();
        _proposalInbox.Add(new ProposalWaiter(KvCommand.EncodeExpireSessions(cutoff)));
    }

    private void RefreshDownPeers()
    {
        foreach (var store in _shard.Replicas)
        {
            if (store == _id.Store)
            {
                continue;
            }

            if (_stores.FindActiveSilo(store) is null)
            {
                _downPeers.Add(store);
            }
            else
            {
                _downPeers.Remove(store);
            }
        }
    }

    /// <summary>
    /// Leader balance: the shard's first replica is its preferred leader, and layouts rotate the first
    /// replica across stores, so leadership (and client load) spreads over the cluster instead of piling
    /// onto whichever silo started first. A leader that is not preferred hands over to the preferred store
    /// when that store is up, at most once per few election timeouts so a lagging or flapping store cannot
    /// cause churn; Raft catches the transferee up before it takes over.
    /// </summary>
    private void MaybeTransferToPreferredLeader()
    {
        if (++_ticksSinceBalance < _options.ElectionTicks * 4 || !_node.IsLeader)
        {
            return;
        }

        _ticksSinceBalance = 0;
        var preferred = _shard.Replicas[0];
        if (preferred != _id.Store && _stores.FindActiveSilo(preferred) is not null)
        {
            var result = _node.TransferLeadership((ulong)preferred.Value);
            LogLeaderTransfer(_id.ToGrainKey(), preferred.Value, result.Status.ToString());
        }
    }

    /// <summary>
    /// The one place that drives the Raft node: feed queued input, then persist, send and apply each Ready.
    /// Re-entrant calls return at once; the running pump picks up whatever they queued. A storage failure
    /// is fatal for the activation (the replica must not continue with state it could not persist).
    /// </summary>
    private async Task PumpAsync()
    {
        if (_pumping || _failed || _node is null)
        {
            return;
        }

        _pumping = true;
        try
        {
            while (true)
            {
                DrainInbox();
                if (!_node.HasReady())
                {
                    break;
                }

                var ready = _node.GetReady();
                await HandleReadyAsync(ready);
                _node.Advance(ready);
                CompleteAppliedReads();
                await MaybeCompactAsync();
            }
        }
        catch (Exception e)
        {
            _failed = true;
            LogFatal(_id.ToGrainKey(), e);
            FailWaitingClients(NoKvErrorCode.StoreUnavailable);
            DeactivateOnIdle();
        }
        finally
        {
            _pumping = false;
        }
    }

    private void DrainInbox()
    {
        for (; _pendingTicks > 0; _pendingTicks--)
        {
            _node.Tick();
            MaybeTransferToPreferredLeader();
        }

        if (_messageInbox.Count > 0)
        {
            foreach (var message in _messageInbox)
            {
                try
                {
                    _node.Step(message);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    LogStepRejected(_id.ToGrainKey(), message.ToString(), e.Message);
                    continue;
                }

                if (message.From == _node.Lead && message.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot)
                {
                    _lastLeaderContact = Environment.TickCount64;
                }
            }

            _messageInbox.Clear();
        }

        if (_proposalInbox.Count > 0)
        {
            foreach (var waiter in _proposalInbox)
            {
                var result = _node.Propose(waiter.Command);
                if (result.IsAccepted)
                {
                    waiter.Index = result.Index;
                    waiter.Term = result.Term;
                    if (_proposals.Remove(result.Index, out var displaced))
                    {
                        displaced.Complete(NoKvErrorCode.ProposalDropped, false, 0);
                    }

                    _proposals[result.Index] = waiter;
                }
                else
                {
                    waiter.Complete(result.Status == ProposalStatus.NotLeader ? NoKvErrorCode.NotLeader : NoKvErrorCode.ProposalDropped, false, 0);
                }
            }

            _proposalInbox.Clear();
        }

        if (_readInbox.Count > 0)
        {
            Span<byte> context = stackalloc byte[8];
            foreach (var waiter in _readInbox)
            {
                BinaryPrimitives.WriteInt64LittleEndian(context, waiter.Id);
                var result = _node.ReadIndex(context.ToArray());
                if (result.IsAccepted)
                {
                    _pendingReads[waiter.Id] = waiter;
                }
                else
                {
                    waiter.Complete(result.Status == ProposalStatus.NotLeader ? NoKvErrorCode.NotLeader : NoKvErrorCode.ProposalDropped);
                }
            }

            _readInbox.Clear();
        }
    }

    /// <summary>
    /// Persist (one engine write, synced when Raft requires), then send, then apply; Ready's contract order,
    /// except that a leader's replication messages (<see cref="Ready.MessagesBeforePersist"/>) leave before
    /// the write, so the followers' fsyncs overlap the leader's own instead of following it.
    /// </summary>
    /// <remarks>
    /// Why sending those early is safe here (the full argument is in docs/raft.md, "Leader writes in parallel"):
    /// they acknowledge nothing, and the Ready changes neither term nor vote (else the library reports none);
    /// the leader counts its own entries toward commit at append time, but the commit index only moves when a
    /// follower's AppendResponse is stepped, and responses arriving while this method awaits the engine only
    /// queue in <c>_messageInbox</c> (this grain is reentrant, but the pump is running, and RawNode refuses
    /// Step until Advance); committed entries are applied, and clients answered, only after the write.
    /// Followers' acknowledgements and votes always wait for the write.
    /// </remarks>
    private async Task HandleReadyAsync(Ready ready)
    {
        if (ready.SoftState is { } soft && soft.Role != StateRole.Leader)
        {
            // Lost (or never had) leadership: nothing pending here can be answered by this node any more.
            FailAllWaiters(NoKvErrorCode.NotLeader);
        }

        int early = ready.MessagesBeforePersist;
        if (early > 0)
        {
            Send(ready.Messages.Span[..early]);
        }

        // Reused: one Ready is handled at a time and its write is awaited before the next begins. A batch that
        // grew past 1 MiB (a burst, a catch-up) is dropped rather than kept per replica.
        if (_readyBatch.ApproximateSize > 1 << 20)
        {
            _readyBatch = new WriteBatch();
        }

        var batch = _readyBatch;
        batch.Clear();
        var snapshot = ready.Snapshot;
        if (snapshot is not null)
        {
            _log.StageSnapshot(batch, snapshot.Metadata.Index, snapshot.Metadata.Term);
        }

        _log.StageAppend(batch, ready.Entries.Span);
        if (ready.HardState is { } hs)
        {
            _log.StageHardState(batch, hs);
        }

        // One engine write per Ready: unless a snapshot must be installed first, the committed entries' effects
        // and the applied index ride in the same atomic batch as the log and hard state. After a crash they
        // all agree, and committed entries that arrive in this very Ready (a single voter's, or a follower's
        // append that carries its own commit) become durable in the same write as their effects.
        var committed = ready.CommittedEntries;
        _outcomes.Clear();
        bool applyStaged = snapshot is null && _stateMachine.StageApply(committed.Span, _outcomes, batch);

        if (batch.Count > 0)
        {
            // Many replicas of this silo await here at once; the engine's group commit gives them one fsync.
            await _store.Database.WriteAsync(batch, ready.MustSync ? WriteOptions.Synced : WriteOptions.Default);
        }

        if (snapshot is not null)
        {
            _log.CommitSnapshot(snapshot.Metadata.Index, snapshot.Metadata.Term);
        }

        _log.CommitAppend(ready.Entries.Span);
        if (ready.HardState is { } committedHs)
        {
            _log.CommitHardState(committedHs);
        }

        if (applyStaged)
        {
            _stateMachine.CompleteApply();
        }

        Send(ready.Messages.Span[early..]);

        if (snapshot is not null)
        {
            await _stateMachine.InstallSnapshotAsync(snapshot.Data, snapshot.Metadata.Index, snapshot.Metadata.Term);
            _cachedSnapshot = null;
            LogSnapshotInstalled(_id.ToGrainKey(), snapshot.Metadata.Index);
            await _stateMachine.ApplyAsync(committed, _outcomes);
        }

        if (!committed.IsEmpty)
        {
            // Membership entries (the bootstrap membership among them) take effect on the node as they
            // apply. Membership is static in this release, so the descriptor's voters stay authoritative.
            foreach (ref readonly var entry in committed.Span)
            {
                if (entry.Type == EntryType.ConfChange && !entry.Data.IsEmpty)
                {
                    _node.ApplyConfChange(ConfChange.Decode(entry.Data));
                }
            }

            foreach (var outcome in _outcomes)
            {
                if (_proposals.Remove(outcome.Index, out var waiter))
                {
                    if (waiter.Term == outcome.Term)
                    {
                        waiter.Complete(outcome.Code, outcome.Succeeded, outcome.Index);
                    }
                    else
                    {
                        waiter.Complete(NoKvErrorCode.ProposalDropped, false, 0);
                    }
                }
            }

            DropOverwrittenProposals(_stateMachine.AppliedIndex);
        }

        foreach (var read in ready.ReadStates.Span)
        {
            long id = read.RequestCtx.Length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(read.RequestCtx.Span) : -1;
            if (_pendingReads.Remove(id, out var waiter))
            {
                waiter.ReadIndex = read.Index;
                _readsAwaitingApply.Add(waiter);
            }
        }
    }

    /// <summary>Proposals at or below the applied index that did not apply as themselves were replaced by another leader's entries.</summary>
    private void DropOverwrittenProposals(ulong applied)
    {
        if (_proposals.Count == 0)
        {
            return;
        }

        List<ulong>? stale = null;
        foreach (var index in _proposals.Keys)
        {
            if (index <= applied)
            {
                (stale ??= new()).Add(index);
            }
        }

        if (stale is null)
        {
            return;
        }

        foreach (var index in stale)
        {
            if (_proposals.Remove(index, out var waiter))
            {
                waiter.Complete(NoKvErrorCode.ProposalDropped, false, 0);
            }
        }
    }

    private void CompleteAppliedReads()
    {
        for (int i = _readsAwaitingApply.Count - 1; i >= 0; i--)
        {
            var waiter = _readsAwaitingApply[i];
            if (_stateMachine.AppliedIndex >= waiter.ReadIndex)
            {
                _readsAwaitingApply.RemoveAt(i);
                waiter.Complete(NoKvErrorCode.Ok);
            }
        }
    }

    /// <summary>Batches messages per destination into one one-way call each; never awaited (see the class remarks).</summary>
    private void Send(ReadOnlySpan<Message> messages)
    {
        if (messages.IsEmpty)
        {
            return;
        }

        foreach (var message in messages)
        {
            if (!_outgoing.TryGetValue(message.To, out var writer))
            {
                writer = new ArrayBufferWriter<byte>();
                _outgoing[message.To] = writer;
            }

            RaftMessageCodec.Write(writer, message);
            _outgoingCounts[message.To] = _outgoingCounts.GetValueOrDefault(message.To) + 1;
        }

        foreach (var (to, writer) in _outgoing)
        {
            int count = _outgoingCounts.GetValueOrDefault(to);
            if (count == 0)
            {
                continue;
            }

            var target = new StoreId((int)to);
            if (_downPeers.Contains(target))
            {
                // The peer's store has no live silo: placement would refuse the call anyway. Raft resends
                // once it is back; skipping saves a failed placement (and its error log) per heartbeat.
                writer.ResetWrittenCount();
                _outgoingCounts[to] = 0;
                continue;
            }

            var batch = new RaftMessageBatch { Shard = _shard.Id, From = _id.Store, To = target, Count = count, Payload = writer.WrittenSpan.ToArray() };
            writer.ResetWrittenCount();
            _outgoingCounts[to] = 0;
            try
            {
                if (!_peers.TryGetValue(to, out var peer))
                {
                    peer = GrainFactory.GetGrain<IShardReplicaGrain>(new ReplicaId(_shard.Id, target).ToGrainKey());
                    _peers[to] = peer;
                }

                _ = ObserveAsync(peer.DeliverAsync(batch));
            }
            catch (Exception e)
            {
                LogSendFailed(_id.ToGrainKey(), to, e.Message);
            }
        }
    }

    private async Task ObserveAsync(Task send)
    {
        try
        {
            await send;
        }
        catch (Exception e)
        {
            // Raft retransmits; a lost batch only costs time.
            LogSendFailed(_id.ToGrainKey(), 0, e.Message);
        }
    }

    /// <summary>Keeps the log bounded: once enough entries are applied, drops all but a tail for slow followers.</summary>
    private async Task MaybeCompactAsync()
    {
        ulong applied = _stateMachine.AppliedIndex;
        ulong truncated = _log.FirstIndex() - 1;
        ulong threshold = (ulong)_options.SnapshotEntries;
        if (applied <= truncated || applied - truncated <= threshold)
        {
            return;
        }

        ulong compactTo = applied - (threshold / 4);
        var batch = new WriteBatch();
        _log.StageCompact(batch, compactTo);
        await _store.Database.WriteAsync(batch, WriteOptions.Default);
        _log.CommitCompact(compactTo);
        LogCompacted(_id.ToGrainKey(), compactTo);
    }

    /// <summary>
    /// Raft's storage asks for a snapshot to send a follower that needs compacted entries. It is the state
    /// machine at its applied index (which is never behind the compaction point), reused while fresh.
    /// </summary>
    private Snapshot CreateSnapshot()
    {
        ulong applied = _stateMachine.AppliedIndex;
        var cached = _cachedSnapshot;
        if (cached is not null && cached.Metadata.Index >= _log.FirstIndex() - 1 && cached.Metadata.Index + ((ulong)_options.SnapshotEntries / 2) >= applied)
        {
            return cached;
        }

        var data = _stateMachine.ExportSnapshot();
        var snapshot = new Snapshot(new SnapshotMetadata(applied, _stateMachine.AppliedTerm, _node is null ? _log.InitialState().ConfState : _node.ConfState), data);
        _cachedSnapshot = snapshot;
        LogSnapshotCreated(_id.ToGrainKey(), applied, data.Length);
        return snapshot;
    }

    private void FailAllWaiters(NoKvErrorCode code)
    {
        foreach (var waiter in _proposals.Values)
        {
            waiter.Complete(code == NoKvErrorCode.NotLeader ? NoKvErrorCode.ProposalDropped : code, false, 0);
        }

        _proposals.Clear();
        foreach (var waiter in _pendingReads.Values)
        {
            waiter.Complete(code);
        }

        _pendingReads.Clear();
        foreach (var waiter in _readsAwaitingApply)
        {
            waiter.Complete(code);
        }

        _readsAwaitingApply.Clear();
    }

    /// <summary>
    /// The activation is failing or going away: answers every client still waiting, including those whose request
    /// is only queued for the pump (which will not run again), so none waits for its deadline.
    /// </summary>
    private void FailWaitingClients(NoKvErrorCode code)
    {
        FailAllWaiters(code);
        foreach (var waiter in _proposalDeadlines)
        {
            waiter.Complete(code, false, 0);
        }

        _proposalDeadlines.Clear();
        foreach (var waiter in _readDeadlines)
        {
            waiter.Complete(code);
        }

        _readDeadlines.Clear();
    }
}
