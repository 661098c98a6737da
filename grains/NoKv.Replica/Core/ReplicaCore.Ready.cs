using System.Buffers.Binary;
using System.Diagnostics;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Raft;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Diagnostics;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;
using NoKv.Storage;

namespace NoKv.Replica.Core;

public sealed partial class ReplicaCore
{
    // Input queued for the pump by calls that arrive while it runs. Drained only outside a Ready.
    private readonly List<Message> _messageInbox = new();
    private readonly List<ProposalWaiter> _proposalInbox = new();
    private readonly List<ReadWaiter> _readInbox = new();
    private readonly List<ulong> _unreachableReports = new();
    private int _pendingTicks;

    private readonly List<ApplyOutcome> _outcomes = new();
    private readonly List<Message> _outgoing = new();
    private readonly Dictionary<ulong, StoreId> _peerStores = new();

    // When each peer last answered this node as leader (host milliseconds); for the leader's staleness bound.
    private readonly Dictionary<ulong, long> _lastResponse = new();
    private WriteBatch _readyBatch = new();
    private bool _pumping;
    private bool _failed;

    // Set by Close: the replica is going away (deactivation, destruction); no further Ready is started.
    private bool _closed;
    private string? _applyHalt;
    private long _lastLeaderContact;

    /// <summary>True while a pump runs (between awaits of a Ready); input given now is queued for it.</summary>
    public bool IsPumping => _pumping;

    /// <summary>
    /// The one place that drives the Raft node: feed queued input, then persist, apply and send each Ready.
    /// Re-entrant calls return at once; the running pump picks up whatever they queued. A storage failure or a
    /// broken invariant is fatal for this instance (the replica must not continue with state it could not
    /// persist): waiting clients are answered, <see cref="Failed"/> is raised and the host reopens the replica.
    /// </summary>
    public async Task PumpAsync()
    {
        if (_pumping || _failed || _closed || _pumpHeld > 0)
        {
            return;
        }

        _pumping = true;
        try
        {
            while (!_closed)
            {
                if (_mergeRetryDue)
                {
                    await ResumeMergeWaitAsync().ConfigureAwait(true);
                }

                DrainInbox();
                if (!_node.HasReady())
                {
                    break;
                }

                var ready = _node.GetReady();
                ReplicaTelemetry.Readies.Add(1);
                await HandleReadyAsync(ready).ConfigureAwait(true);
                _node.Advance(ready);
                CompleteAppliedReads();
                if (!_closed)
                {
                    await MaybeCompactAsync().ConfigureAwait(true);
                }
            }

            MaybeHibernateFollower();
        }
        catch (Exception e)
        {
            _failed = true;
            ReplicaCoreLog.Fatal(_logger, _name, e);
            LogEvent("replica_failed", $"{_name}: {e.GetType().Name}: {e.Message}");
            FailWaitingClients(NoKvErrorCode.StoreUnavailable);
            Failed?.Invoke(e);
        }
        finally
        {
            _pumping = false;
        }
    }

    /// <summary>
    /// Feeds queued input to the node. Messages go first: after a stall (a long Ready write, a paused process) the
    /// acknowledgements that arrived meanwhile must count before the ticks that piled up, or a leader would step
    /// down by check-quorum while the proof that its quorum is alive sits in its inbox.
    /// </summary>
    private void DrainInbox()
    {
        if (_proposalInbox.Count > 0 || _readInbox.Count > 0 || _requestedTransferee != 0)
        {
            Wake("a request");
        }

        DrainWakeRequests();
        if (_messageInbox.Count > 0)
        {
            long now = _host.NowMs;
            foreach (var message in _messageInbox)
            {
                ObserveForHibernation(message);
                try
                {
                    _node.Step(message);
                }
                catch (ArgumentException e)
                {
                    // Bad input from the wire (a local-only type, a wrong address) changes nothing. Anything else
                    // Step throws is a broken invariant of the log and is fatal (the pump's handler).
                    ReplicaCoreLog.StepRejected(_logger, _name, message.ToString(), e.Message);
                    continue;
                }

                if (message.From == _node.Lead && message.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot)
                {
                    _lastLeaderContact = now;
                    _sleptSinceLeaderContact = false;
                }
                else if (_node.IsLeader && message.Type is MessageType.AppendResponse or MessageType.HeartbeatResponse)
                {
                    _lastResponse[message.From] = now;
                }
            }

            _messageInbox.Clear();
        }

        if (_unreachableReports.Count > 0)
        {
            foreach (var peer in _unreachableReports)
            {
                _node.ReportUnreachable(peer);
                _node.ReportSnapshot(peer, SnapshotStatus.Failure);
            }

            _unreachableReports.Clear();
        }

        DrainTransferRequest();
        if (_pendingTicks > 0)
        {
            ReplicaTelemetry.Ticks.Add(_pendingTicks);
        }

        for (; _pendingTicks > 0; _pendingTicks--)
        {
            _node.Tick();
            MaybeTransferLeadership();
        }

        if (_campaignRequested)
        {
            // A follower that found its leader's store silent and forgot it: its random delay ran out. Not if it heard
            // from a leader since (the forgotten one back, or a new one) or campaigns already.
            _campaignRequested = false;
            if (_node.Lead == 0 && !_node.IsLeader && _node.Role == Raft.StateRole.Follower)
            {
                _node.Campaign();
            }
        }

        if (_proposalInbox.Count > 0)
        {
            foreach (var waiter in _proposalInbox)
            {
                if ((waiter.Stamped && !ProposeReadFloorBeforeStamped(waiter)) || (waiter.Unanchored && !ProposeUnanchorBefore(waiter)))
                {
                    continue;
                }

                var result = waiter.Change is { } change ? _node.ProposeConfChange(change) : _node.Propose(waiter.Command);
                CountProposal(result.Status);
                if (result.IsAccepted)
                {
                    waiter.Index = result.Index;
                    waiter.Term = result.Term;
                    if (waiter.Stamped)
                    {
                        TrackStamped(waiter, result.Index);
                    }
                    else if (waiter.IsAnchor)
                    {
                        SyncReadFloorTerm();
                        _anchorIndex = result.Index;
                    }
                    else if (waiter.StampAtLeast > _stampPredicted)
                    {
                        _stampPredicted = waiter.StampAtLeast;
                    }

                    if (!waiter.Stamped && waiter.Change is null && CommandEnvelope.TryReadHeader(waiter.Command, out var header) && header.Type == CommandType.RollbackMerge)
                    {
                        NoteRollbackAppended(result.Index);
                    }

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
            foreach (var waiter in _readInbox)
            {
                var context = new byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(context, waiter.Id);
                var result = RegisterRead(waiter, context);
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
    /// Persist (one engine write, synced when Raft requires), install a snapshot if there is one, apply, then send:
    /// Ready's contract order, except that a leader's replication messages (<see cref="Ready.MessagesBeforePersist"/>)
    /// leave before the write, so the followers' fsyncs overlap the leader's own instead of following it.
    /// </summary>
    /// <remarks>
    /// Why sending those early is safe (the full argument is in docs/raft.md, "Leader writes in parallel"): they
    /// acknowledge nothing, and the Ready changes neither term nor vote (else the library reports none); the commit
    /// index only moves when a follower's AppendResponse is stepped, and responses arriving while this method awaits
    /// the engine only queue in the inbox; committed entries are applied, and clients answered, only after the write.
    /// Everything else, followers' acknowledgements and votes among them, waits for the write, and when the Ready
    /// carries a snapshot also for its installation: a follower that acknowledged a snapshot it had not ingested
    /// would, after a crash in between, be counted as caught up by a leader that never sends it the data again.
    /// </remarks>
    private async Task HandleReadyAsync(Ready ready)
    {
        if (ready.SoftState is { } observed)
        {
            ObserveSoftState(observed);
        }

        if (ready.SoftState is { } soft && soft.Role != StateRole.Leader)
        {
            // Lost (or never had) leadership: nothing pending here can be answered by this node any more.
            FailAllWaiters(NoKvErrorCode.NotLeader);
            _lastResponse.Clear();
        }

        if (ready.SoftState is { } role)
        {
            OnLockRoleChange(role.Role == StateRole.Leader);
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

        var snapshot = ready.Snapshot;

        // The snapshot's staging file (if any) is this Ready's: deleted once installed, or when the Ready fails.
        using var staged = snapshot?.Payload;
        if (snapshot is not null)
        {
            // Checked whole before anything of it is written (off this thread: it reads the snapshot once): a torn or
            // damaged staged snapshot fails the replica with its disk as it was, and reopened it is sent the snapshot
            // again, instead of a log that points past a state machine it never got.
            var payload = snapshot.AsPayload();
            await Task.Run(() => _stateMachine.VerifySnapshot(payload)).ConfigureAwait(true);
        }

        var batch = _readyBatch;
        batch.Clear();
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
        bool applyStaged = snapshot is null && StageApply(committed.Span, batch);

        if (batch.Count > 0)
        {
            // Many replicas of this store await here at once; the engine's group commit gives them one fsync.
            long writeStarted = Stopwatch.GetTimestamp();
            await PersistAsync(batch, ready.MustSync || (applyStaged && _stateMachine.StagedNeedsSync) ? WriteOptions.Synced : WriteOptions.Default).ConfigureAwait(true);
            ReplicaTelemetry.AppendDuration.Record(ReplicaTelemetry.Seconds(writeStarted, Stopwatch.GetTimestamp()));
        }

        if (!ready.Entries.IsEmpty)
        {
            ReplicaTelemetry.EntriesAppended.Add(ready.Entries.Length);
        }

        if (!committed.IsEmpty)
        {
            ReplicaTelemetry.EntriesApplied.Add(committed.Length);
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
            CompleteApply();
        }

        if (snapshot is not null)
        {
            await _stateMachine.InstallSnapshotAsync(snapshot.AsPayload(), snapshot.Metadata.Index, snapshot.Metadata.Term).ConfigureAwait(true);
            ReplicaCoreLog.SnapshotInstalled(_logger, _name, snapshot.Metadata.Index, _stateMachine.Descriptor.ToString());
            ReplicaTelemetry.SnapshotsInstalled.Add(1);
            if (_mergeWaitIndex != 0 && _stateMachine.AppliedIndex >= _mergeWaitIndex)
            {
                // The snapshot holds the merge this replica waited to apply (Raft restores only above its commit index,
                // so it also covers every entry handed out meanwhile).
                _mergeWaitIndex = 0;
            }

            LogEvent("snapshot_installed", $"{_name} installed a snapshot at index {snapshot.Metadata.Index}");
            ReportSplits();
            ReportMerges();
            OnLocksApplied();
            var tail = new WriteBatch();
            if (StageApply(committed.Span, tail))
            {
                await PersistAsync(tail, _stateMachine.StagedNeedsSync ? WriteOptions.Synced : WriteOptions.Default).ConfigureAwait(true);
                CompleteApply();
            }
        }

        Send(ready.Messages.Span[early..]);
        AnswerOutcomes();

        if (!committed.IsEmpty)
        {
            DropOverwrittenProposals(_stateMachine.AppliedIndex);
        }

        foreach (var read in ready.ReadStates.Span)
        {
            long id = read.RequestCtx.Length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(read.RequestCtx.Span) : -1;
            if (_pendingReads.Remove(id, out var waiter))
            {
                waiter.ReadIndex = Math.Max(read.Index, waiter.MinIndex);
                NoteReadConfirmed(waiter);
                _readsAwaitingApply.Add(waiter);
            }
        }
    }

    /// <summary>Answers the proposals whose entries the last apply decided.</summary>
    private void AnswerOutcomes()
    {
        if (_outcomes.Count == 0)
        {
            return;
        }

        foreach (var outcome in _outcomes)
        {
            if (_proposals.Remove(outcome.Index, out var waiter))
            {
                waiter.Payload = outcome.Payload;
                waiter.Result = waiter.Term == outcome.Term ? outcome.Result : null;
                waiter.Complete(waiter.Term == outcome.Term ? outcome.Code : NoKvErrorCode.ProposalDropped, waiter.Term == outcome.Term && outcome.Succeeded, waiter.Term == outcome.Term ? outcome.Index : 0);
            }
        }
    }

    /// <summary>
    /// Stages the state machine's apply of <paramref name="committed"/>. An entry this build cannot decode halts
    /// applying at that entry (docs/format-commands.md): the replica keeps its log, votes and acknowledgements going
    /// so the group keeps its quorum, but applies nothing past it and refuses clients until it is upgraded.
    /// </summary>
    private bool StageApply(ReadOnlySpan<Entry> committed, WriteBatch batch)
    {
        if (_applyHalt is not null)
        {
            return false;
        }

        if (_mergeWaitIndex != 0)
        {
            // Applying waits before a merge commit; these entries stay in the log until it resumes.
            TrackApplyProgress(committed);
            return false;
        }

        bool staged = _stateMachine.StageApply(committed, _outcomes, batch);
        TrackApplyProgress(committed);
        if (_stateMachine.HaltReason is { } reason)
        {
            _applyHalt = reason;
            ReplicaCoreLog.ApplyHalted(_logger, _name, reason);
            LogEvent("apply_halted", $"{_name}: {reason}");
            FailAllWaiters(NoKvErrorCode.StoreUnavailable);
        }

        return staged;
    }

    /// <summary>The staged apply is durable: make it current, and let the Raft node follow membership changes in it.</summary>
    private void CompleteApply()
    {
        var before = _stateMachine.Descriptor;
        var changes = _stateMachine.CompleteApply();
        foreach (var change in changes)
        {
            if (change.Type is ConfChangeType.AddLearnerNode or ConfChangeType.AddNode && before.Peer(change.NodeId) is null)
            {
                // A new peer starts empty and must get a snapshot, never the log from index 1 (see DeliverAsync):
                // compact up to here so no replica that may lead can offer it those entries.
                _compactFloor = Math.Max(_compactFloor, _stateMachine.AppliedIndex);
            }

            var conf = _node.ApplyConfChange(change);
            ReplicaCoreLog.MembershipChanged(_logger, _name, change.Type.ToString(), change.NodeId, conf.ToString(), _stateMachine.Descriptor.ToString());
            LogEvent("membership_changed", $"{_name}: {change.Type} peer {change.NodeId}; now {_stateMachine.Descriptor}");
        }

        ReportSplits();
        ReportMerges();
        OnLocksApplied();
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

    /// <summary>
    /// Hands messages to the host one destination at a time (a Ready's messages are grouped by destination so
    /// each peer gets one transport call). A destination that cannot be reached is reported to Raft at once, so
    /// a leader stops pipelining to it and a snapshot transfer to it resumes from its last acknowledged chunk.
    /// </summary>
    private void Send(ReadOnlySpan<Message> messages)
    {
        if (messages.IsEmpty)
        {
            return;
        }

        _outgoing.Clear();
        foreach (var message in messages)
        {
            _outgoing.Add(message);
        }

        CountSnapshotsSent(messages);
        ReplicaTelemetry.MessagesSent.Add(messages.Length);

        // Stable order by destination keeps each peer's messages in Ready order.
        int start = 0;
        var all = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_outgoing);
        SortByDestination(all);
        while (start < all.Length)
        {
            ulong to = all[start].To;
            int end = start + 1;
            while (end < all.Length && all[end].To == to)
            {
                end++;
            }

            var group = all[start..end];
            bool sent = StoreOf(to) is { } store && _host.Send(new PeerDescriptor(to, store, Descriptor.Peer(to)?.Role ?? PeerRole.Voter), group);
            if (!sent)
            {
                _unreachableReports.Add(to);
            }

            start = end;
        }

        _outgoing.Clear();
    }

    /// <summary>Insertion sort by destination, stable: a Ready holds few messages and they arrive mostly grouped.</summary>
    private static void SortByDestination(Span<Message> messages)
    {
        for (int i = 1; i < messages.Length; i++)
        {
            var current = messages[i];
            int j = i - 1;
            while (j >= 0 && messages[j].To > current.To)
            {
                messages[j + 1] = messages[j];
                j--;
            }

            messages[j + 1] = current;
        }
    }

    /// <summary>
    /// The latest time by which a quorum of voters (this leader included, as of now) had answered it: the leader
    /// knows no other leader could have committed anything before then. Computed only for the bounded-staleness
    /// reads that need it, from the voters of the applied descriptor (the membership the node runs with).
    /// </summary>
    private long QuorumContact()
    {
        var peers = Descriptor.Peers;
        Span<long> times = stackalloc long[peers.Length];
        int voters = 0;
        long now = _host.NowMs;
        foreach (var peer in peers)
        {
            if (peer.Role == PeerRole.Voter)
            {
                times[voters++] = peer.PeerId == PeerId ? now : _lastResponse.GetValueOrDefault(peer.PeerId);
            }
        }

        if (voters == 0)
        {
            return 0;
        }

        times = times[..voters];
        times.Sort();
        return times[voters - ((voters / 2) + 1)];
    }


    /// <summary>An engine write of the pump (see <see cref="IReplicaHost.UniformWriteCompletion"/>).</summary>
    private async ValueTask PersistAsync(WriteBatch batch, WriteOptions options)
    {
        var write = _db.WriteAsync(batch, options);
        if (write.IsCompleted && _host.UniformWriteCompletion)
        {
            await Task.Yield();
        }

        await write.ConfigureAwait(true);
    }
}
