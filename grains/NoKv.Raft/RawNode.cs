using System.Runtime.InteropServices;
using NoKv.Raft.Messages;
using NoKv.Raft.Storage;

namespace NoKv.Raft;

/// <summary>
/// A Raft node as a deterministic state machine: the host feeds it ticks, messages and requests,
/// and collects the resulting work as <see cref="Ready"/> batches. No threads, clocks, I/O or
/// randomness beyond <see cref="RaftConfig.Random"/>.
/// </summary>
/// <remarks>
/// <para>Thread safety: none. One thread (or one Orleans grain turn) drives a node at a time.</para>
/// <para>Ready discipline: after <see cref="GetReady"/>, the only calls allowed until
/// <see cref="Advance"/> are the read-only properties and <see cref="Status"/>; anything else throws
/// <see cref="InvalidOperationException"/>. This keeps the Ready's memory stable while the host
/// persists it, and guarantees the node never acts on an acknowledgement of its own unpersisted state.</para>
/// <para>Proposals are not forwarded: a follower answers <see cref="ProposalStatus.NotLeader"/> with
/// the leader it knows, and the host redirects (clients retry with a session sequence number, so a
/// retried write applies once). Reads and transfer requests are forwarded to the leader.</para>
/// </remarks>
public sealed class RawNode
{
    private readonly RaftCore raft;
    private readonly Ready ready = new();
    private Message[] readyMessages = new Message[16];
    private ReadState[] readyReadStates = new ReadState[4];
    private SoftState previousSoftState;
    private HardState previousHardState;

    /// <summary>Creates (or restarts) a node from what <paramref name="storage"/> holds.</summary>
    /// <exception cref="ArgumentException">The config is invalid (message names the setting).</exception>
    /// <exception cref="InvalidOperationException">The persisted state is inconsistent (e.g. commit beyond the log).</exception>
    public RawNode(RaftConfig config, IRaftStorage storage)
    {
        raft = new RaftCore(config, storage);
        previousSoftState = raft.SoftState;
        previousHardState = raft.HardState;
    }

    public ulong Id => raft.Id;

    public ulong Term => raft.Term;

    /// <summary>The leader this node knows of in its term, 0 if none.</summary>
    public ulong Lead => raft.Lead;

    public StateRole Role => raft.Role;

    public bool IsLeader => raft.Role == StateRole.Leader;

    /// <summary>True while this leader is handing leadership to another peer (that peer may win at once).</summary>
    public bool IsTransferringLeadership => raft.Role == StateRole.Leader && raft.LeadTransferee != 0;

    /// <summary>
    /// A leader's last heartbeat round (0 before its first): the number its heartbeats carry in Index and its followers
    /// echo. Rounds only rise within a term, so a host can stamp its own notices with it and have followers tell an old
    /// notice from one sent after a newer heartbeat.
    /// </summary>
    public ulong HeartbeatRound => raft.Role == StateRole.Leader ? raft.HeartbeatRound : 0;

    /// <summary>
    /// Bytes of a chunked snapshot this node is receiving and holds so far (0 when none is arriving): the only sign of
    /// progress of a follower catching up by a large snapshot before it installs it.
    /// </summary>
    public ulong IncomingSnapshotBytes => raft.IncomingSnapshotBytes;

    public ulong CommitIndex => raft.Log.Committed;

    /// <summary>
    /// Releases the snapshot payloads and sinks the node holds (streams to followers, a snapshot arriving), deleting
    /// what backs them. For a host closing the node: it must not be stepped after this. A snapshot already handed out
    /// in a Ready is the host's, not released here.
    /// </summary>
    public void ReleaseSnapshots() => raft.ReleaseSnapshots();

    public ulong AppliedIndex => raft.Log.Applied;

    public ulong LastIndex => raft.Log.LastIndex();

    public ulong FirstIndex => raft.Log.FirstIndex();

    /// <summary>The membership this node currently uses.</summary>
    public ConfState ConfState => raft.Tracker.ConfState();

    internal RaftCore Core => raft;

    /// <summary>Advances logical time by one tick (elections, heartbeats, check-quorum, leases).</summary>
    public void Tick()
    {
        EnsureNotInReady();
        raft.Tick();
    }

    /// <summary>Starts an election now (pre-vote first when enabled). Ignored on a leader or a non-voter.</summary>
    public void Campaign()
    {
        EnsureNotInReady();
        raft.Hup(transfer: false);
    }

    /// <summary>
    /// A follower forgets its current leader (see <see cref="RaftCore.ForgetLeader"/>): with pre-vote and check-quorum it
    /// then grants votes without waiting out the leader's lease. Only on outside evidence that the leader is gone.
    /// </summary>
    public void ForgetLeader()
    {
        EnsureNotInReady();
        raft.ForgetLeader();
    }

    /// <summary>Feeds a message received from another node.</summary>
    /// <exception cref="ArgumentException">The message is a local-only type or is addressed to another node.</exception>
    public void Step(in Message message)
    {
        EnsureNotInReady();
        if (Message.IsLocal(message.Type) || message.Type == MessageType.Propose)
        {
            throw new ArgumentException($"Message type {message.Type} is local; use the RawNode method instead.", nameof(message));
        }

        if (message.To != raft.Id && message.To != 0)
        {
            throw new ArgumentException($"Message addressed to {message.To} was stepped into node {raft.Id}.", nameof(message));
        }

        // Responses from nodes that are not members (e.g. just removed) carry nothing useful.
        if (Message.IsResponse(message.Type) && !raft.Tracker.Contains(message.From))
        {
            return;
        }

        raft.Step(message);
    }

    /// <summary>Proposes a command. On a leader it is appended at once (Index/Term in the result).</summary>
    public ProposalResult Propose(ReadOnlyMemory<byte> data)
    {
        EnsureNotInReady();
        return raft.Propose(data);
    }

    /// <summary>Proposes a one-at-a-time membership change; applied via <see cref="ApplyConfChange"/> once committed.</summary>
    public ProposalResult ProposeConfChange(ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        EnsureNotInReady();
        if (change.NodeId == 0)
        {
            return ProposalResult.Fail(ProposalStatus.Rejected, raft.Lead, "A membership change cannot name node 0.");
        }

        return raft.ProposeConfChange(change);
    }

    /// <summary>
    /// Applies a committed ConfChange (decoded from a <see cref="EntryType.ConfChange"/> entry in
    /// <see cref="Ready.CommittedEntries"/>) and returns the new membership, which the host persists
    /// together with its applied index. Call it while processing the Ready that delivered the entry
    /// (before <see cref="Advance"/>) or after; it is the one mutating call allowed inside a Ready.
    /// </summary>
    public ConfState ApplyConfChange(ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return raft.ApplyConfChange(change);
    }

    /// <summary>Requests a linearizable read with the configured default mode.</summary>
    public ProposalResult ReadIndex(ReadOnlyMemory<byte> requestContext) => ReadIndex(requestContext, raft.Config.ReadOnlyOption);

    /// <summary>
    /// Requests a linearizable read. When it is safe, a <see cref="ReadState"/> with the same context
    /// appears in a later Ready (possibly on a follower, which forwards the request). A request may be
    /// dropped silently (leader change, message loss): the host retries after its own timeout.
    /// </summary>
    public ProposalResult ReadIndex(ReadOnlyMemory<byte> requestContext, ReadOnlyOption mode)
    {
        EnsureNotInReady();
        if (mode is not (ReadOnlyOption.Safe or ReadOnlyOption.LeaseBased))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown read mode.");
        }

        return raft.ReadIndex(requestContext, mode);
    }

    /// <summary>Asks the leader to hand leadership to <paramref name="transferee"/> (it catches up, then gets TimeoutNow).</summary>
    public ProposalResult TransferLeadership(ulong transferee)
    {
        EnsureNotInReady();
        return raft.TransferLeadership(transferee);
    }

    /// <summary>The transport failed to reach <paramref name="id"/>: a leader stops pipelining to it and probes.</summary>
    public void ReportUnreachable(ulong id)
    {
        EnsureNotInReady();
        raft.ReportUnreachable(id);
    }

    /// <summary>The transport's outcome for a snapshot chunk sent to <paramref name="id"/>; on failure the leader resumes from the last acknowledged offset.</summary>
    public void ReportSnapshot(ulong id, SnapshotStatus status)
    {
        EnsureNotInReady();
        raft.ReportSnapshot(id, status);
    }

    /// <summary>Whether <see cref="GetReady"/> would return any work.</summary>
    public bool HasReady()
    {
        if (ready.InUse)
        {
            return false;
        }

        raft.FlushPending();
        if (raft.SoftState != previousSoftState)
        {
            return true;
        }

        var hs = raft.HardState;
        if (!hs.IsEmpty && hs != previousHardState)
        {
            return true;
        }

        var log = raft.Log;
        return log.Unstable.Snapshot is not null
            || log.Unstable.Count > 0
            || raft.Messages.Count > 0
            || raft.ReadStates.Count > 0
            || log.HasNextCommittedEntries();
    }

    /// <summary>Collects the pending work. The returned object is valid until <see cref="Advance"/>.</summary>
    /// <exception cref="InvalidOperationException">The previous Ready was not advanced.</exception>
    public Ready GetReady()
    {
        EnsureNotInReady();
        raft.FlushPending();
        ready.Clear();

        var soft = raft.SoftState;
        if (soft != previousSoftState)
        {
            ready.SoftState = soft;
            previousSoftState = soft;
        }

        var hs = raft.HardState;
        if (hs != previousHardState)
        {
            ready.HardState = hs;
        }

        var log = raft.Log;
        ready.Entries = log.Unstable.EntriesMemory;
        ready.Snapshot = log.Unstable.Snapshot;
        if (log.HasNextCommittedEntries())
        {
            ready.CommittedEntries = log.NextCommittedEntries(log.Applied);
        }

        var messages = raft.Messages;
        if (messages.Count > 0)
        {
            if (readyMessages.Length < messages.Count)
            {
                readyMessages = new Message[Math.Max(messages.Count, readyMessages.Length * 2)];
            }
            else
            {
                // Drop references to the previous batch so sent messages can be collected.
                Array.Clear(readyMessages);
            }

            if (raft.Role == StateRole.Leader && (ready.HardState is not { } changed || (changed.Term == previousHardState.Term && changed.Vote == previousHardState.Vote)))
            {
                // Stable partition: replication messages first (they may leave before the write), the rest after.
                var pending = CollectionsMarshal.AsSpan(messages);
                int early = 0;
                foreach (ref readonly var m in pending)
                {
                    if (MaySendBeforePersist(m.Type))
                    {
                        readyMessages[early++] = m;
                    }
                }

                int late = early;
                foreach (ref readonly var m in pending)
                {
                    if (!MaySendBeforePersist(m.Type))
                    {
                        readyMessages[late++] = m;
                    }
                }

                ready.MessagesBeforePersist = early;
            }
            else
            {
                messages.CopyTo(readyMessages);
            }

            ready.Messages = readyMessages.AsMemory(0, messages.Count);
            messages.Clear();
        }

        raft.OnReadyTaken();

        var reads = raft.ReadStates;
        if (reads.Count > 0)
        {
            if (readyReadStates.Length < reads.Count)
            {
                readyReadStates = new ReadState[Math.Max(reads.Count, readyReadStates.Length * 2)];
            }

            reads.CopyTo(readyReadStates);
            ready.ReadStates = readyReadStates.AsMemory(0, reads.Count);
            reads.Clear();
        }

        ready.MustSync = !ready.Entries.IsEmpty || ready.Snapshot is not null
            || (ready.HardState is { } h && (h.Term != previousHardState.Term || h.Vote != previousHardState.Vote));
        ready.InUse = true;
        return ready;
    }

    /// <summary>
    /// Reports that the host persisted, sent and applied everything in <paramref name="rd"/>. The
    /// applied index becomes the last committed entry (or snapshot) of this Ready.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="rd"/> is not the outstanding Ready.</exception>
    public void Advance(Ready rd)
    {
        ArgumentNullException.ThrowIfNull(rd);
        if (!ReferenceEquals(rd, ready) || !ready.InUse)
        {
            throw new InvalidOperationException("Advance must be given the Ready returned by the last GetReady, exactly once.");
        }

        if (rd.HardState is { } hs)
        {
            previousHardState = hs;
        }

        var log = raft.Log;
        if (rd.Snapshot is { } snapshot)
        {
            log.StableSnapTo(snapshot.Metadata.Index);
            if (snapshot.Metadata.Index > log.Applied)
            {
                log.AppliedTo(snapshot.Metadata.Index);
            }
        }

        if (!rd.Entries.IsEmpty)
        {
            var last = rd.Entries.Span[^1];
            log.StableTo(last.Index, last.Term);
        }

        if (!rd.CommittedEntries.IsEmpty)
        {
            var committed = rd.CommittedEntries.Span;
            raft.ReduceUncommittedSize(committed);
            log.AppliedTo(committed[^1].Index);
        }

        ready.Clear();
        ready.InUse = false;
    }

    /// <summary>A description of the node's state (allocates).</summary>
    public RaftStatus Status()
    {
        var progress = new Dictionary<ulong, ProgressStatus>();
        if (raft.Role == StateRole.Leader)
        {
            foreach (var id in raft.Tracker.Ids)
            {
                var pr = raft.Tracker.Get(id)!;
                progress[id] = new ProgressStatus(pr.Match, pr.Next, pr.State, pr.IsLearner, pr.RecentActive, pr.Inflights.Count, pr.PendingSnapshot);
            }
        }

        return new RaftStatus(raft.Id, raft.HardState, raft.SoftState, raft.Log.Applied, raft.Log.FirstIndex(), raft.Log.LastIndex(),
            raft.LeadTransferee, raft.Tracker.ConfState(), progress);
    }

    /// <summary>A leader's replication traffic: it offers state and acknowledges none (see <see cref="Ready.MessagesBeforePersist"/>).</summary>
    private static bool MaySendBeforePersist(MessageType type) => type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot;

    private void EnsureNotInReady()
    {
        if (ready.InUse)
        {
            throw new InvalidOperationException("The previous Ready has not been advanced: call Advance before driving the node again.");
        }
    }
}
