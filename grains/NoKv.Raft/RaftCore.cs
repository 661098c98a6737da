using NoKv.Raft.Log;
using NoKv.Raft.Messages;
using NoKv.Raft.Reads;
using NoKv.Raft.Snapshots;
using NoKv.Raft.Storage;
using NoKv.Raft.Tracker;

namespace NoKv.Raft;

/// <summary>
/// The Raft state machine proper. It only changes memory and queues outgoing messages; the
/// <see cref="RawNode"/> wrapper turns that into <see cref="Ready"/> batches. The current role is the
/// delegate in <see cref="step"/> (leader, candidate/pre-candidate or follower), swapped by the
/// Become* methods.
/// </summary>
/// <remarks>
/// Not thread-safe: one thread drives a node. Split by role into partial files: RaftCore.Leader.cs,
/// RaftCore.Candidate.cs, RaftCore.Follower.cs, RaftCore.Membership.cs.
/// </remarks>
internal sealed partial class RaftCore
{
    /// <summary>Context of a Vote that comes from a leadership transfer: voters ignore their leader lease for it.</summary>
    internal static readonly ReadOnlyMemory<byte> CampaignTransferContext = "transfer"u8.ToArray();

    private readonly RaftConfig config;
    private readonly Random random;
    private readonly List<Message> messages = new();
    private readonly List<ReadState> readStates = new();
    private readonly List<Entry> scratch = new();
    private readonly MessageEntryBuffers entryBuffers;
    private readonly SnapshotChunkBuffers chunkBuffers;
    private readonly ReadIndexQueue readQueue = new();
    private readonly List<PendingRead> readsAwaitingCommit = new();
    private readonly StepFunction stepLeaderFunc;
    private readonly StepFunction stepCandidateFunc;
    private readonly StepFunction stepFollowerFunc;
    private StepFunction step;

    private int randomizedElectionTimeout;
    private int electionElapsed;
    private int heartbeatElapsed;

    /// <summary>Set after a restart until one election timeout has passed: treat ourselves as in a leader's lease
    /// (refuse votes) because the lease we promised before the crash may still be running.</summary>
    private bool startupLeaseGuard;

    /// <summary>Ticks since the restart while <see cref="startupLeaseGuard"/> holds. Counted apart from
    /// <see cref="electionElapsed"/>, which every message from a leader resets: a follower that kept hearing from one
    /// kept the guard forever, and once its host forgot that leader (<see cref="ForgetLeader"/>) it still refused every
    /// pre-vote, so a hibernating group whose leader's store died could not elect until it campaigned itself.</summary>
    private int startupGuardTicks;

    private ulong uncommittedSize;
    private bool broadcastPending;
    private bool commitBroadcastPending;

    /// <summary>Leader-local clock in ticks, counted from 1 after taking office (lease reads).</summary>
    private ulong leaderTick;

    /// <summary>Last heartbeat round broadcast in this term.</summary>
    private ulong heartbeatRound;

    /// <summary>The leader's last heartbeat round in this term (see <see cref="RawNode.HeartbeatRound"/>).</summary>
    internal ulong HeartbeatRound => heartbeatRound;

    /// <summary>A read is waiting for the next heartbeat round.</summary>
    private bool readRoundPending;

    /// <summary>A TimeoutNow was sent this term: the transferee may win at any time, so our lease is void.</summary>
    private bool leaseRevoked;

    public RaftCore(RaftConfig config, IRaftStorage storage)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(storage);
        config.Validate();
        this.config = config;
        random = config.Random!;
        Id = config.Id;
        Log = new RaftLog(storage, config.EffectiveMaxCommittedSizePerReady);
        Tracker = new ProgressTracker(config.MaxInflightMsgs, config.MaxInflightBytes);
        entryBuffers = new MessageEntryBuffers(config.ReuseMessageEntryBuffers);
        chunkBuffers = new SnapshotChunkBuffers(config.ReuseMessageEntryBuffers);

        stepLeaderFunc = StepLeader;
        stepCandidateFunc = StepCandidate;
        stepFollowerFunc = StepFollower;
        step = stepFollowerFunc;

        var initial = storage.InitialState();
        Tracker.SetConfig(initial.ConfState, Log.LastIndex() + 1);
        if (!initial.HardState.IsEmpty)
        {
            LoadHardState(initial.HardState);
        }

        Log.InitApplied(config.Applied, initial.HardState.Commit);
        BecomeFollower(Term, 0);
        // A node that persisted a term may have acknowledged a leader's heartbeat just before it
        // crashed, so that leader may still be serving lease reads: honour the lease after restart.
        // A node that never persisted a term never acknowledged anyone, nor did one still at a term in which no leader
        // can have existed (config.LeaseFreeTerm).
        startupLeaseGuard = config.CheckQuorum && Term > config.LeaseFreeTerm;
    }

    public ulong Id { get; }

    public ulong Term { get; private set; }

    public ulong Vote { get; private set; }

    public ulong Lead { get; private set; }

    public StateRole Role { get; private set; }

    public RaftLog Log { get; }

    public ProgressTracker Tracker { get; }

    public ulong LeadTransferee { get; private set; }

    /// <summary>Index of the latest ConfChange entry appended by this leader (or its first-term entry); a new
    /// change may be proposed only once Applied reaches it.</summary>
    public ulong PendingConfIndex { get; private set; }

    public List<Message> Messages => messages;

    /// <summary>Called by GetReady once it has taken <see cref="Messages"/> (see <see cref="MessageEntryBuffers"/>).</summary>
    public void OnReadyTaken()
    {
        entryBuffers.OnReadyTaken();
        chunkBuffers.OnReadyTaken();
    }

    public List<ReadState> ReadStates => readStates;

    public HardState HardState => new(Term, Vote, Log.Committed);

    public SoftState SoftState => new(Lead, Role);

    public RaftConfig Config => config;

    /// <summary>Whether this node may campaign: a voter with no snapshot waiting to be installed.</summary>
    public bool Promotable => Tracker.IsVoter(Id) && Log.Unstable.Snapshot is null;

    private void LoadHardState(HardState state)
    {
        var last = Log.LastIndex();
        if (state.Commit < Log.Committed || state.Commit > last)
        {
            throw new InvalidOperationException(
                $"Persisted commit {state.Commit} is outside [{Log.Committed}, {last}]: the log lost acknowledged entries.");
        }

        Term = state.Term;
        Vote = state.Vote;
    }

    // ---------------------------------------------------------------- role transitions

    public void BecomeFollower(ulong term, ulong lead)
    {
        step = stepFollowerFunc;
        Reset(term);
        Lead = lead;
        Role = StateRole.Follower;
    }

    /// <summary>
    /// A follower forgets its leader: it stays a leaderless follower in the same term, without campaigning, and so
    /// grants (pre-)votes at once instead of honouring the leader's lease. For a host that has its own evidence the
    /// leader is gone (a failure detector); it reverts as soon as it hears from a leader again. Ignored elsewhere.
    /// A node within an election timeout of its restart still refuses: the lease it may have promised before the crash
    /// was not necessarily this leader's.
    /// </summary>
    public void ForgetLeader()
    {
        if (Role == StateRole.Follower)
        {
            Lead = 0;
        }
    }

    private void BecomeCandidate()
    {
        if (Role == StateRole.Leader)
        {
            throw new InvalidOperationException("A leader cannot become a candidate directly.");
        }

        step = stepCandidateFunc;
        Reset(Term + 1);
        Vote = Id;
        Role = StateRole.Candidate;
    }

    private void BecomePreCandidate()
    {
        if (Role == StateRole.Leader)
        {
            throw new InvalidOperationException("A leader cannot become a pre-candidate directly.");
        }

        // Pre-candidacy changes neither term nor vote: it only asks whether an election could succeed.
        step = stepCandidateFunc;
        Tracker.ResetVotes();
        Lead = 0;
        Role = StateRole.PreCandidate;
    }

    private void BecomeLeader()
    {
        if (Role == StateRole.Follower)
        {
            throw new InvalidOperationException("A follower cannot become leader without an election.");
        }

        step = stepLeaderFunc;
        Reset(Term);
        Lead = Id;
        Role = StateRole.Leader;
        leaderTick = 1;
        heartbeatRound = 0;
        readRoundPending = false;
        leaseRevoked = false;

        var self = Tracker.Get(Id);
        if (self is not null)
        {
            self.BecomeReplicate();
            self.RecentActive = true;
        }

        // Commit an empty entry of the new term: it commits every earlier entry (Raft §5.4.2) and is
        // the first entry that makes ReadIndex safe. Membership changes wait until it is applied, so a
        // change is never proposed on top of an unconfirmed predecessor (the one-at-a-time safety fix).
        var noop = new Entry(Term, Log.LastIndex() + 1, EntryType.Normal, ReadOnlyMemory<byte>.Empty);
        AppendEntry(noop);
        PendingConfIndex = noop.Index;
        broadcastPending = true;
    }

    private void Reset(ulong term)
    {
        if (Term != term)
        {
            Term = term;
            Vote = 0;
        }

        Lead = 0;
        electionElapsed = 0;
        heartbeatElapsed = 0;
        ResetRandomizedElectionTimeout();
        AbortLeaderTransfer();
        Tracker.ResetVotes();
        Tracker.ResetAll(Log.LastIndex(), Id);
        PendingConfIndex = 0;
        uncommittedSize = 0;
        broadcastPending = false;
        commitBroadcastPending = false;
        readQueue.Clear();
        readsAwaitingCommit.Clear();
    }

    private void ResetRandomizedElectionTimeout() =>
        randomizedElectionTimeout = config.ElectionTick + random.Next(config.ElectionTick);

    internal int RandomizedElectionTimeout => randomizedElectionTimeout;

    private void AbortLeaderTransfer() => LeadTransferee = 0;

    // ---------------------------------------------------------------- time

    public void Tick()
    {
        // The promise a restarted node may have made before its crash lasts one election timeout of its own ticks
        // from the restart, whatever it heard since.
        if (startupLeaseGuard && ++startupGuardTicks >= config.ElectionTick)
        {
            startupLeaseGuard = false;
        }

        if (Role == StateRole.Leader)
        {
            TickHeartbeat();
        }
        else
        {
            TickElection();
        }
    }

    private void TickElection()
    {
        electionElapsed++;
        if (Promotable && electionElapsed >= randomizedElectionTimeout)
        {
            electionElapsed = 0;
            Hup(transfer: false);
        }
    }

    private void TickHeartbeat()
    {
        heartbeatElapsed++;
        electionElapsed++;
        leaderTick++;

        if (electionElapsed >= config.ElectionTick)
        {
            electionElapsed = 0;
            if (config.CheckQuorum)
            {
                CheckQuorumActive();
                if (Role != StateRole.Leader)
                {
                    return;
                }
            }

            // A transfer that did not finish within an election timeout is abandoned.
            AbortLeaderTransfer();
        }

        if (heartbeatElapsed >= config.HeartbeatTick)
        {
            heartbeatElapsed = 0;
            BroadcastHeartbeat();
        }
    }

    // ---------------------------------------------------------------- elections

    /// <summary>Starts an election if allowed (local Hup).</summary>
    public void Hup(bool transfer)
    {
        if (Role == StateRole.Leader)
        {
            return;
        }

        if (!Promotable)
        {
            return;
        }

        // Campaigning with a committed but unapplied membership change could use a stale voter set.
        if (HasUnappliedConfChange())
        {
            return;
        }

        if (config.PreVote && !transfer)
        {
            Campaign(preVote: true, transfer: false);
        }
        else
        {
            Campaign(preVote: false, transfer: transfer);
        }
    }

    private bool HasUnappliedConfChange()
    {
        if (Log.Committed <= Log.Applied)
        {
            return false;
        }

        scratch.Clear();
        try
        {
            Log.Slice(Math.Max(Log.Applied + 1, Log.FirstIndex()), Log.Committed + 1, ulong.MaxValue, scratch);
        }
        catch (LogCompactedException)
        {
            return false;
        }

        var found = false;
        foreach (var e in scratch)
        {
            // Term-0 entries are the bootstrap membership, already part of the initial ConfState.
            if (e.Type == EntryType.ConfChange && e.Term != 0)
            {
                found = true;
                break;
            }
        }

        scratch.Clear();
        return found;
    }

    private void Campaign(bool preVote, bool transfer)
    {
        ulong term;
        MessageType voteType;
        if (preVote)
        {
            BecomePreCandidate();
            voteType = MessageType.PreVote;
            term = Term + 1;
        }
        else
        {
            BecomeCandidate();
            voteType = MessageType.Vote;
            term = Term;
        }

        if (Poll(Id, true) == Quorum.VoteResult.Won)
        {
            // Single-voter group: won outright.
            if (preVote)
            {
                Campaign(preVote: false, transfer: false);
            }
            else
            {
                BecomeLeader();
            }

            return;
        }

        var lastIndex = Log.LastIndex();
        var lastTerm = Log.LastTerm();
        foreach (var id in Tracker.Voters.Incoming.Ids)
        {
            if (id == Id)
            {
                continue;
            }

            Send(new Message
            {
                Type = voteType,
                To = id,
                From = Id,
                Term = term,
                Index = lastIndex,
                LogTerm = lastTerm,
                Context = transfer ? CampaignTransferContext : default,
            });
        }
    }

    private Quorum.VoteResult Poll(ulong from, bool granted)
    {
        Tracker.RecordVote(from, granted);
        return Tracker.TallyVotes().Result;
    }

    // ---------------------------------------------------------------- message entry point

    /// <summary>Processes a message from another node (or a forwarded request). REQUIRES: not a local type.</summary>
    public void Step(in Message m)
    {
        if (m.Term > Term)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote)
            {
                var force = m.Context.Span.SequenceEqual(CampaignTransferContext.Span);
                var inLease = config.CheckQuorum && (Lead != 0 || startupLeaseGuard) && electionElapsed < config.ElectionTick;
                if (!force && inLease)
                {
                    // We heard from a live leader within the election timeout (or just restarted and may
                    // have promised a lease): ignore without bumping our term. This is the lease that
                    // makes check-quorum leaders' lease reads safe, and it stops disruptive candidates.
                    return;
                }
            }

            if (m.Type == MessageType.PreVote || (m.Type == MessageType.PreVoteResponse && !m.Reject))
            {
                // A pre-vote never changes anybody's term; a granted pre-vote response carries the
                // future term and is counted below.
            }
            else if (m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot)
            {
                BecomeFollower(m.Term, m.From);
            }
            else
            {
                BecomeFollower(m.Term, 0);
            }
        }
        else if (m.Term < Term)
        {
            if ((config.CheckQuorum || config.PreVote) && m.Type is MessageType.Heartbeat or MessageType.Append)
            {
                // A stale leader (e.g. just healed from a partition) would otherwise never learn our
                // term, because with pre-vote/check-quorum nobody sends it a higher-term vote request.
                Send(new Message { Type = MessageType.AppendResponse, To = m.From, From = Id, Term = Term });
            }
            else if (m.Type == MessageType.PreVote)
            {
                Send(new Message { Type = MessageType.PreVoteResponse, To = m.From, From = Id, Term = Term, Reject = true });
            }

            return;
        }

        switch (m.Type)
        {
            case MessageType.Vote:
            case MessageType.PreVote:
                HandleVoteRequest(m);
                break;
            default:
                step(m);
                break;
        }
    }

    private void HandleVoteRequest(in Message m)
    {
        // We may vote for the candidate we already voted for (a retransmission), or anyone if we have
        // neither voted nor know a leader in this term; a pre-vote for a future term is always open.
        var canVote = Vote == m.From
            || (Vote == 0 && Lead == 0)
            || (m.Type == MessageType.PreVote && m.Term > Term);
        var responseType = m.Type == MessageType.Vote ? MessageType.VoteResponse : MessageType.PreVoteResponse;
        if (canVote && Log.IsUpToDate(m.Index, m.LogTerm))
        {
            // The response carries the candidate's term so it is counted for that election.
            Send(new Message { Type = responseType, To = m.From, From = Id, Term = m.Term });
            if (m.Type == MessageType.Vote)
            {
                electionElapsed = 0;
                Vote = m.From;
                startupLeaseGuard = false;
            }
        }
        else
        {
            Send(new Message { Type = responseType, To = m.From, From = Id, Term = Term, Reject = true });
        }
    }

    private void Send(in Message m) => messages.Add(m);

    // ---------------------------------------------------------------- snapshots (shared)

    /// <summary>Installs a fully received snapshot. Returns false if it is stale or already covered by our log.</summary>
    private bool Restore(Snapshot snapshot)
    {
        var meta = snapshot.Metadata;
        if (meta.Index <= Log.Committed)
        {
            return false;
        }

        if (Role != StateRole.Follower)
        {
            // Only a leader of our term sends snapshots, and receiving one made us follow it.
            BecomeFollower(Term + 1, 0);
            return false;
        }

        if (Log.MatchTerm(meta.Index, meta.Term))
        {
            // We already hold the entry the snapshot ends at: just fast-forward commit.
            Log.CommitTo(meta.Index);
            return false;
        }

        Log.Restore(snapshot);
        Tracker.SetConfig(meta.ConfState, Log.LastIndex() + 1);
        Tracker.ResetAll(Log.LastIndex(), Id);
        return true;
    }

    // ---------------------------------------------------------------- helpers

    private void AppendEntry(in Entry entry)
    {
        Log.AppendOne(entry);
        uncommittedSize += (ulong)entry.Data.Length;

        // The leader acknowledges its own entry at once. Safe because the host persists this Ready
        // before it steps any response that could use this acknowledgement to commit (Ready contract).
        var self = Tracker.Get(Id);
        if (self is not null)
        {
            self.MaybeUpdate(entry.Index);
        }

        // Only a group whose quorum is this node alone can commit on the leader's own acknowledgement.
        if (Tracker.IsSingleton)
        {
            MaybeCommit();
        }
    }

    /// <summary>Called by RawNode before a Ready is built: sends what batching deferred.</summary>
    public void FlushPending()
    {
        if (Role != StateRole.Leader)
        {
            broadcastPending = false;
            commitBroadcastPending = false;
            readRoundPending = false;
            return;
        }

        if (readRoundPending)
        {
            readRoundPending = false;
            BroadcastHeartbeat();
        }

        if (broadcastPending || commitBroadcastPending)
        {
            var withCommit = commitBroadcastPending;
            broadcastPending = false;
            commitBroadcastPending = false;
            BroadcastAppend(withCommit);
        }
    }

    /// <summary>Reduces the uncommitted-bytes counter as committed entries are handed to the host.</summary>
    public void ReduceUncommittedSize(ReadOnlySpan<Entry> committed)
    {
        if (Role != StateRole.Leader)
        {
            return;
        }

        ulong size = 0;
        foreach (var e in committed)
        {
            size += (ulong)e.Data.Length;
        }

        uncommittedSize = size > uncommittedSize ? 0 : uncommittedSize - size;
    }

    public void AddReadState(in ReadState state) => readStates.Add(state);
}
