using NoKv.Raft.Messages;
using NoKv.Raft.Reads;
using NoKv.Raft.Storage;
using NoKv.Raft.Tracker;

namespace NoKv.Raft;

/// <summary>Leader behaviour: proposals, replication, flow control, snapshots, reads, transfer.</summary>
internal sealed partial class RaftCore
{
    /// <summary>The last entry batch sent, reused for the next follower that needs exactly the same batch
    /// (same first index, same log end, same term, and its array not recycled since). Entries at an index
    /// never change while a leader's log only grows, and the array is not written while a message that
    /// may still be in use references it.</summary>
    private ReadOnlyMemory<Entry> sharedBatch;
    private ulong sharedBatchLogLast;
    private ulong sharedBatchTerm;
    private int sharedBatchGeneration;

    // ---------------------------------------------------------------- proposals

    public ProposalResult Propose(ReadOnlyMemory<byte> data)
    {
        if (Role != StateRole.Leader)
        {
            return ProposalResult.NotLeader(Lead);
        }

        if (LeadTransferee != 0)
        {
            return ProposalResult.Fail(ProposalStatus.LeadershipTransferInProgress, Lead,
                $"Leadership is being transferred to {LeadTransferee}.");
        }

        if (config.MaxUncommittedEntriesSize > 0 && uncommittedSize > 0
            && uncommittedSize + (ulong)data.Length > config.MaxUncommittedEntriesSize)
        {
            return ProposalResult.Fail(ProposalStatus.UncommittedSizeExceeded, Lead,
                $"Uncommitted entries hold {uncommittedSize} bytes; the limit is {config.MaxUncommittedEntriesSize}.");
        }

        if (!Tracker.Contains(Id))
        {
            return ProposalResult.Fail(ProposalStatus.Rejected, Lead, "This leader is no longer a member of the group.");
        }

        var entry = new Entry(Term, Log.LastIndex() + 1, EntryType.Normal, data);
        AppendEntry(entry);
        broadcastPending = true;
        return ProposalResult.Accepted(entry.Index, entry.Term, Id);
    }

    public ProposalResult ProposeConfChange(ConfChange change)
    {
        if (Role != StateRole.Leader)
        {
            return ProposalResult.NotLeader(Lead);
        }

        if (LeadTransferee != 0)
        {
            return ProposalResult.Fail(ProposalStatus.LeadershipTransferInProgress, Lead,
                $"Leadership is being transferred to {LeadTransferee}.");
        }

        if (PendingConfIndex > Log.Applied)
        {
            return ProposalResult.Fail(ProposalStatus.ConfChangePending, Lead,
                $"A membership change (or this leader's first entry) at index {PendingConfIndex} is not applied yet (applied {Log.Applied}).");
        }

        var next = Membership.ConfChanger.Apply(Tracker.ConfState(), change, out var changed);
        if (!changed)
        {
            return ProposalResult.Fail(ProposalStatus.Rejected, Lead, $"The change {change.Type} {change.NodeId} does not alter the membership.");
        }

        if (next.Voters.Count == 0)
        {
            return ProposalResult.Fail(ProposalStatus.Rejected, Lead, "The change would leave the group without voters.");
        }

        var entry = new Entry(Term, Log.LastIndex() + 1, EntryType.ConfChange, change.Encode());
        AppendEntry(entry);
        PendingConfIndex = entry.Index;
        broadcastPending = true;
        return ProposalResult.Accepted(entry.Index, entry.Term, Id);
    }

    // ---------------------------------------------------------------- leader step

    private void StepLeader(in Message m)
    {
        switch (m.Type)
        {
            case MessageType.ReadIndex:
                HandleReadIndexRequest(m.From, m.Context, (ReadOnlyOption)m.Index);
                return;
            case MessageType.TransferLeader:
                HandleTransferLeader(m.From);
                return;
        }

        var pr = Tracker.Get(m.From);
        if (pr is null)
        {
            return;
        }

        switch (m.Type)
        {
            case MessageType.AppendResponse:
                HandleAppendResponse(m, pr);
                break;
            case MessageType.HeartbeatResponse:
                HandleHeartbeatResponse(m, pr);
                break;
            case MessageType.SnapshotResponse:
                HandleSnapshotResponse(m, pr);
                break;
        }
    }

    private void HandleAppendResponse(in Message m, Progress pr)
    {
        pr.RecentActive = true;
        if (m.Reject)
        {
            // Fast backtracking: the follower told us the highest index that could match (RejectHint)
            // and its term there (LogTerm). Skip over every index of ours whose term is above that
            // term: none of them can match. One round trip per term instead of per entry.
            var nextProbe = m.RejectHint;
            if (m.LogTerm > 0)
            {
                nextProbe = Log.FindConflictByTerm(m.RejectHint, m.LogTerm, out _);
            }

            if (pr.MaybeDecrTo(m.Index, nextProbe))
            {
                if (pr.State == ProgressState.Replicate)
                {
                    pr.BecomeProbe();
                }

                SendAppend(m.From, pr, sendIfEmpty: true);
            }

            return;
        }

        var wasPaused = pr.IsPaused;
        // A non-advancing ack still matters in Probe (it ends the probe) and in Snapshot (the follower
        // may already hold the snapshot, e.g. it restarted from its own).
        if (!pr.MaybeUpdate(m.Index) && !(pr.Match == m.Index && pr.State is ProgressState.Probe or ProgressState.Snapshot))
        {
            return;
        }

        switch (pr.State)
        {
            case ProgressState.Probe:
                pr.BecomeReplicate();
                break;
            case ProgressState.Snapshot:
                // However the follower got there (our snapshot or another), once it can continue from
                // our log it goes back to normal replication.
                if (pr.Match + 1 >= Log.FirstIndex())
                {
                    pr.BecomeProbe();
                    pr.BecomeReplicate();
                }
                else if (pr.Match >= pr.PendingSnapshot)
                {
                    // The follower holds the snapshot we were sending, but we have compacted past it
                    // meanwhile: probe, which finds the log compacted and starts a fresh snapshot.
                    pr.BecomeProbe();
                }
                else
                {
                    return;
                }

                break;
            case ProgressState.Replicate:
                pr.Inflights.FreeLE(m.Index);
                pr.MsgAppFlowPaused = pr.Inflights.Full;
                break;
        }

        MaybeCommit();
        if (wasPaused || pr.State == ProgressState.Replicate)
        {
            // Refill the window now instead of waiting for the next Ready.
            while (pr.State == ProgressState.Replicate && MaybeSendAppend(m.From, pr, sendIfEmpty: false))
            {
            }

            if (pr.State == ProgressState.Probe)
            {
                SendAppend(m.From, pr, sendIfEmpty: false);
            }
        }

        if (m.From == LeadTransferee && pr.Match == Log.LastIndex())
        {
            SendTimeoutNow(m.From);
        }
    }

    private void HandleHeartbeatResponse(in Message m, Progress pr)
    {
        pr.RecentActive = true;

        // Index = the heartbeat round, LogTerm = the leader tick it was sent at (echoed by the follower).
        var round = m.Index;
        var sentTick = m.LogTerm;
        if (round > pr.AckedRound && round <= heartbeatRound)
        {
            pr.AckedRound = round;
            pr.AckedSendTick = Math.Max(pr.AckedSendTick, sentTick);
            ReleaseReads();
        }

        // An answer proves the follower reachable, which may unblock a probe, a full window whose messages were lost,
        // or a stalled snapshot stream: worth one send per tick. Every read-index round is a heartbeat round, and one
        // send per answer was a resend of the whole unacknowledged tail per read batch (seen: a follower just past its
        // snapshot sent the same entries dozens of times per Ready, 315 MB in one envelope, the leader stalled 11 s).
        if (pr.HeartbeatPromptTick == leaderTick)
        {
            return;
        }

        pr.HeartbeatPromptTick = leaderTick;
        pr.MsgAppFlowPaused = false;

        switch (pr.State)
        {
            case ProgressState.Snapshot:
                // Resume a stalled snapshot stream from the last acknowledged offset: a chunk was reported failed,
                // or the stream has not moved for an election timeout (a chunk or its acknowledgement was lost).
                if (!pr.SnapshotChunkInFlight || leaderTick - pr.SnapshotChunkSentTick >= (ulong)config.ElectionTick)
                {
                    pr.RewindSnapshot();
                    SendSnapshotWindow(m.From, pr);
                }

                break;
            default:
                if (pr.Match < Log.LastIndex() || pr.State == ProgressState.Probe)
                {
                    SendAppend(m.From, pr, sendIfEmpty: true);
                }

                break;
        }
    }

    private void HandleSnapshotResponse(in Message m, Progress pr)
    {
        pr.RecentActive = true;
        if (pr.State != ProgressState.Snapshot || pr.PendingSnapshot != m.Index)
        {
            return;
        }

        // The follower says where its contiguous data ends.
        pr.SnapshotAnswered = true;
        var offset = Math.Min(m.ChunkOffset, (ulong)pr.SnapshotInFlight!.Size);
        if (m.Reject)
        {
            // It lost a partial transfer (it answers 0) or saw a gap: resume from where its data ends, once for all
            // the chunks that were in flight behind the gap (each of them is rejected with the same offset).
            if (pr.SnapshotRewoundTo == offset && pr.SnapshotChunkInFlight)
            {
                return;
            }

            pr.SnapshotAckedOffset = offset;
            pr.RewindSnapshot();
            pr.SnapshotRewoundTo = offset;
        }
        else if (offset > pr.SnapshotAckedOffset)
        {
            // Progress. A follower that already held a prefix from an earlier leader answers past what was sent.
            pr.SnapshotAckedOffset = offset;
            pr.SnapshotSentOffset = Math.Max(pr.SnapshotSentOffset, offset);
            pr.SnapshotChunkSentTick = leaderTick;
            pr.SnapshotRewoundTo = null;
            if (pr.SnapshotSentOffset == offset)
            {
                pr.SnapshotChunkInFlight = false;
            }
        }
        else
        {
            // An acknowledgement overtaken by a later one (or of a duplicate): nothing new.
            return;
        }

        SendSnapshotWindow(m.From, pr);
    }

    public void ReportUnreachable(ulong id)
    {
        if (Role != StateRole.Leader)
        {
            return;
        }

        var pr = Tracker.Get(id);
        if (pr is not null && pr.State == ProgressState.Replicate)
        {
            // Messages may have been dropped: stop streaming and find out where the follower is.
            pr.BecomeProbe();
        }
    }

    public void ReportSnapshot(ulong id, SnapshotStatus status)
    {
        if (Role != StateRole.Leader)
        {
            return;
        }

        var pr = Tracker.Get(id);
        if (pr is null || pr.State != ProgressState.Snapshot)
        {
            return;
        }

        if (status == SnapshotStatus.Failure)
        {
            // Resume from the last acknowledged offset at the next heartbeat answer.
            pr.RewindSnapshot();
        }
    }

    private void CheckQuorumActive()
    {
        if (!Tracker.QuorumActive(Id))
        {
            BecomeFollower(Term, 0);
            return;
        }

        foreach (var id in Tracker.Ids)
        {
            if (id != Id)
            {
                Tracker.Get(id)!.RecentActive = false;
            }
        }
    }

    // ---------------------------------------------------------------- commit

    private bool MaybeCommit()
    {
        var wasCurrentTerm = CommittedInCurrentTerm();
        if (!Log.MaybeCommit(Tracker.Committed(), Term))
        {
            return false;
        }

        // Lazy propagation leaves the new commit index to the next Append or heartbeat (see RaftConfig).
        if (!config.LazyCommitPropagation)
        {
            commitBroadcastPending = true;
        }

        if (!wasCurrentTerm && readsAwaitingCommit.Count > 0)
        {
            ReleaseReadsAwaitingCommit();
        }

        return true;
    }

    private bool CommittedInCurrentTerm() => Log.Term(Log.Committed) == Term;

    // ---------------------------------------------------------------- sending

    private void BroadcastAppend(bool withCommit)
    {
        foreach (var id in Tracker.Ids)
        {
            if (id == Id)
            {
                continue;
            }

            var pr = Tracker.Get(id)!;
            if (!MaybeSendAppend(id, pr, sendIfEmpty: withCommit))
            {
                continue;
            }

            while (pr.State == ProgressState.Replicate && MaybeSendAppend(id, pr, sendIfEmpty: false))
            {
            }
        }
    }

    private void SendAppend(ulong to, Progress pr, bool sendIfEmpty) => MaybeSendAppend(to, pr, sendIfEmpty);

    /// <summary>
    /// Sends the next Append to <paramref name="to"/> if flow control allows (or a snapshot if the
    /// entries it needs are compacted). Returns true if a message was sent.
    /// </summary>
    private bool MaybeSendAppend(ulong to, Progress pr, bool sendIfEmpty)
    {
        if (pr.IsPaused)
        {
            return false;
        }

        var prevIndex = pr.Next - 1;
        if (!Log.TryTerm(prevIndex, out var prevTerm))
        {
            return StartSnapshot(to, pr);
        }

        scratch.Clear();
        var last = Log.LastIndex();

        // With a full window only an empty Append goes out (prompted by a heartbeat answer): if every
        // message in the window was lost, its answer (ack or reject) is what unblocks the pipeline.
        var windowFull = pr.State == ProgressState.Replicate && pr.Inflights.Full;
        if (pr.Next <= last && !windowFull)
        {
            try
            {
                Log.Slice(pr.Next, last + 1, config.MaxSizePerMsg, scratch);
            }
            catch (LogCompactedException)
            {
                scratch.Clear();
                return StartSnapshot(to, pr);
            }
        }

        if (scratch.Count == 0 && !sendIfEmpty)
        {
            return false;
        }

        ReadOnlyMemory<Entry> entries;
        ulong bytes = 0;
        ulong lastSent = prevIndex;
        if (scratch.Count == 0)
        {
            entries = ReadOnlyMemory<Entry>.Empty;
        }
        else if (!sharedBatch.IsEmpty && sharedBatch.Span[0].Index == pr.Next && sharedBatchLogLast == last
            && sharedBatch.Length == scratch.Count && sharedBatchTerm == Term && sharedBatchGeneration == entryBuffers.Generation)
        {
            // Followers at the same position get the very same immutable batch: the entry copy is paid
            // once per batch, not once per follower.
            entries = sharedBatch;
            foreach (ref readonly var e in entries.Span)
            {
                bytes += e.Size;
            }

            lastSent = entries.Span[^1].Index;
        }
        else
        {
            var array = entryBuffers.Rent(scratch.Count);
            scratch.CopyTo(array);
            entries = array.AsMemory(0, scratch.Count);
            sharedBatch = entries;
            sharedBatchLogLast = last;
            sharedBatchTerm = Term;
            sharedBatchGeneration = entryBuffers.Generation;
            foreach (ref readonly var e in entries.Span)
            {
                bytes += e.Size;
            }

            lastSent = entries.Span[^1].Index;
        }

        scratch.Clear();
        Send(new Message
        {
            Type = MessageType.Append,
            To = to,
            From = Id,
            Term = Term,
            Index = prevIndex,
            LogTerm = prevTerm,
            Entries = entries,
            Commit = Log.Committed,
        });
        pr.SentEntries(entries.Length, bytes, lastSent);
        return true;
    }

    private bool StartSnapshot(ulong to, Progress pr)
    {
        if (!pr.RecentActive)
        {
            // Do not stream a snapshot to a node we have not heard from; wait until it answers a heartbeat.
            return false;
        }

        Snapshot snapshot;
        try
        {
            snapshot = Log.Snapshot();
        }
        catch (SnapshotTemporarilyUnavailableException)
        {
            return false;
        }

        if (snapshot.IsEmpty)
        {
            snapshot.Release();
            throw new InvalidOperationException($"Node {to} needs compacted entries but storage has no snapshot.");
        }

        pr.BecomeSnapshot(snapshot);
        SendSnapshotWindow(to, pr);
        return true;
    }

    /// <summary>Sends chunks from <see cref="Progress.SnapshotSentOffset"/> until the window of unacknowledged chunks is full.</summary>
    private void SendSnapshotWindow(ulong to, Progress pr)
    {
        var total = (ulong)pr.SnapshotInFlight!.Size;
        if (total == 0)
        {
            // An empty state machine still travels as one (empty) chunk.
            if (!pr.SnapshotChunkInFlight)
            {
                SendSnapshotChunk(to, pr, 0, 0);
            }

            return;
        }

        var window = (ulong)config.SnapshotChunkSize * (pr.SnapshotAnswered ? (ulong)config.SnapshotChunksInFlight : 1);
        while (pr.SnapshotSentOffset < total && pr.SnapshotSentOffset - pr.SnapshotAckedOffset < window)
        {
            var length = (int)Math.Min((ulong)config.SnapshotChunkSize, total - pr.SnapshotSentOffset);
            SendSnapshotChunk(to, pr, pr.SnapshotSentOffset, length);
            pr.SnapshotSentOffset += (ulong)length;
        }
    }

    /// <remarks>
    /// A snapshot with a payload is read here, one chunk per message as it is sent, so a leader holds at most the
    /// window's chunks of it in memory (until the host has sent them), never the whole snapshot.
    /// </remarks>
    private void SendSnapshotChunk(ulong to, Progress pr, ulong offset, int length)
    {
        var snapshot = pr.SnapshotInFlight!;
        var total = snapshot.Size;
        ReadOnlyMemory<byte> chunk;
        if (snapshot.Payload is { } payload)
        {
            var bytes = chunkBuffers.Rent(length, wholeSnapshot: offset == 0 && (ulong)length == (ulong)total);
            payload.ReadAt((long)offset, bytes.Span);
            chunk = bytes;
        }
        else
        {
            chunk = snapshot.Data.Slice((int)offset, length);
        }

        Send(new Message
        {
            Type = MessageType.Snapshot,
            To = to,
            From = Id,
            Term = Term,
            Index = snapshot.Metadata.Index,
            LogTerm = snapshot.Metadata.Term,
            Commit = Log.Committed,
            Snapshot = new Snapshot(snapshot.Metadata, chunk),
            ChunkOffset = offset,
            SnapshotSize = (ulong)total,
        });
        pr.SnapshotChunkInFlight = true;
        pr.SnapshotChunkSentTick = leaderTick;
    }

    private void BroadcastHeartbeat()
    {
        heartbeatRound++;

        var self = Tracker.Get(Id);
        if (self is not null)
        {
            self.AckedRound = heartbeatRound;
            self.AckedSendTick = leaderTick;
        }

        foreach (var id in Tracker.Ids)
        {
            if (id == Id)
            {
                continue;
            }

            var pr = Tracker.Get(id)!;

            // Never tell a follower to commit beyond what it is known to hold.
            Send(new Message
            {
                Type = MessageType.Heartbeat,
                To = id,
                From = Id,
                Term = Term,
                Commit = Math.Min(pr.Match, Log.Committed),

                // The round and send tick travel in fields a heartbeat does not otherwise use, so a heartbeat
                // allocates nothing; the follower echoes them back.
                Index = heartbeatRound,
                LogTerm = leaderTick,
            });
        }

        // A single-voter group confirms its own reads.
        ReleaseReads();
    }

    // ---------------------------------------------------------------- reads

    /// <summary>A ReadIndex request arriving at the leader (local when from == Id).</summary>
    public void HandleReadIndexRequest(ulong from, ReadOnlyMemory<byte> context, ReadOnlyOption mode)
    {
        var read = new PendingRead(0, Log.Committed, from, context, mode);
        if (Tracker.IsSingleton && Tracker.IsVoter(Id))
        {
            AnswerRead(read);
            return;
        }

        // Until an entry of this term commits, our commit index may lag entries committed by an
        // earlier leader; a read at it could miss acknowledged writes.
        if (!CommittedInCurrentTerm())
        {
            readsAwaitingCommit.Add(read);
            return;
        }

        QueueRead(read);
    }

    private void QueueRead(PendingRead read)
    {
        read = read with { Index = Log.Committed };
        if (read.Mode == ReadOnlyOption.LeaseBased && LeaseValid())
        {
            AnswerRead(read);
            return;
        }

        readQueue.Enqueue(read with { Round = heartbeatRound + 1 });
        readRoundPending = true;
    }

    private void ReleaseReadsAwaitingCommit()
    {
        foreach (var read in readsAwaitingCommit)
        {
            QueueRead(read);
        }

        readsAwaitingCommit.Clear();
    }

    private void ReleaseReads()
    {
        if (readQueue.Count == 0)
        {
            return;
        }

        var acked = Tracker.QuorumAckedRound();
        while (readQueue.TryDequeue(acked, out var read))
        {
            AnswerRead(read);
        }
    }

    private void AnswerRead(in PendingRead read)
    {
        if (read.From == Id || read.From == 0)
        {
            readStates.Add(new ReadState(read.Index, read.Context));
        }
        else
        {
            Send(new Message
            {
                Type = MessageType.ReadIndexResponse,
                To = read.From,
                From = Id,
                Term = Term,
                Index = read.Index,
                Context = read.Context,
            });
        }
    }

    /// <summary>
    /// The leader lease: a quorum acknowledged a heartbeat we sent less than ElectionTick - 2 ticks
    /// ago. Each of those voters refuses to vote for anyone else until ElectionTick of its own ticks
    /// have passed since it received that heartbeat, so no other leader can exist yet, provided tick
    /// rates differ by less than the margin (docs/raft.md, "Lease reads").
    /// </summary>
    internal bool LeaseValid()
    {
        if (!config.CheckQuorum || leaseRevoked || LeadTransferee != 0)
        {
            return false;
        }

        var sent = Tracker.QuorumAckedSendTick();
        return sent != 0 && leaderTick - sent < (ulong)Math.Max(config.ElectionTick - 2, 0);
    }

    // ---------------------------------------------------------------- leadership transfer

    private void HandleTransferLeader(ulong transferee)
    {
        var pr = Tracker.Get(transferee);
        if (pr is null || pr.IsLearner)
        {
            return;
        }

        if (LeadTransferee != 0)
        {
            if (LeadTransferee == transferee)
            {
                return;
            }

            AbortLeaderTransfer();
        }

        if (transferee == Id)
        {
            return;
        }

        // The transfer must finish within an election timeout or it is abandoned (TickHeartbeat).
        electionElapsed = 0;
        LeadTransferee = transferee;
        if (pr.Match == Log.LastIndex())
        {
            SendTimeoutNow(transferee);
        }
        else
        {
            SendAppend(transferee, pr, sendIfEmpty: true);
        }
    }

    private void SendTimeoutNow(ulong to)
    {
        leaseRevoked = true;
        Send(new Message { Type = MessageType.TimeoutNow, To = to, From = Id, Term = Term });
    }
}
