using NoKv.Raft.Messages;

namespace NoKv.Raft.Tracker;

/// <summary>A leader's view of one follower (or learner): how far its log matches and how to send to it.</summary>
/// <remarks>
/// Invariants: Match &lt; Next. In Replicate state, Next - 1 is the last index sent. In Snapshot state
/// PendingSnapshot is the index of the snapshot being sent and nothing but snapshot chunks go out.
/// </remarks>
internal sealed class Progress
{
    public Progress(ulong next, int maxInflight, bool isLearner, ulong maxInflightBytes = 0)
    {
        Next = next;
        Inflights = new Inflights(maxInflight, maxInflightBytes);
        IsLearner = isLearner;
    }

    /// <summary>Highest index known to be replicated on the follower.</summary>
    public ulong Match { get; set; }

    /// <summary>Next index to send.</summary>
    public ulong Next { get; set; }

    public ProgressState State { get; private set; }

    /// <summary>In Snapshot state: the index of the snapshot being sent.</summary>
    public ulong PendingSnapshot { get; private set; }

    /// <summary>Heard from since the last check-quorum round (leaders mark themselves active).</summary>
    public bool RecentActive { get; set; }

    /// <summary>In Probe state: an Append was sent and sending waits for its answer or the next heartbeat.</summary>
    public bool MsgAppFlowPaused { get; set; }

    public Inflights Inflights { get; }

    public bool IsLearner { get; set; }

    /// <summary>Highest heartbeat round the follower acknowledged in the current term (read index).</summary>
    public ulong AckedRound { get; set; }

    /// <summary>Leader tick (counted from 1) at which the heartbeat of <see cref="AckedRound"/> was sent; 0 = none (lease).</summary>
    public ulong AckedSendTick { get; set; }

    /// <summary>In Snapshot state: the snapshot being streamed (read a chunk at a time as it is sent; owned by this progress).</summary>
    public Snapshot? SnapshotInFlight { get; private set; }

    /// <summary>In Snapshot state: bytes the follower acknowledged holding contiguously.</summary>
    public ulong SnapshotAckedOffset { get; set; }

    /// <summary>In Snapshot state: end of the bytes sent (at least <see cref="SnapshotAckedOffset"/>); the window is the difference.</summary>
    public ulong SnapshotSentOffset { get; set; }

    /// <summary>In Snapshot state: a chunk is out and unacknowledged; cleared when all are acknowledged or the stream is rewound.</summary>
    public bool SnapshotChunkInFlight { get; set; }

    /// <summary>In Snapshot state: leader tick at which the stream last moved (a chunk sent or an acknowledgement that advanced).</summary>
    public ulong SnapshotChunkSentTick { get; set; }

    /// <summary>
    /// The leader tick at which a heartbeat answer last prompted a send to this follower (0: never). Read-index rounds
    /// are heartbeats too, hundreds a second under reads; one prompt per tick is enough to recover lost messages.
    /// </summary>
    public ulong HeartbeatPromptTick { get; set; }

    /// <summary>
    /// In Snapshot state: the offset the stream was last rewound to on a rejection, until the follower acknowledges past
    /// it. The chunks already in flight behind a gap are each rejected with that same offset; rewinding once for all of
    /// them keeps a loss from resending the window once per chunk.
    /// </summary>
    public ulong? SnapshotRewoundTo { get; set; }

    /// <summary>
    /// In Snapshot state: the follower has answered this stream. Until it has, one chunk goes at a time: a follower that
    /// already holds a prefix (from an earlier leader streaming the same snapshot) answers the first chunk with where
    /// its data ends, and a full window sent blind would resend that prefix.
    /// </summary>
    public bool SnapshotAnswered { get; set; }

    /// <summary>In Snapshot state: sends nothing more until the follower acknowledges or the stream resumes (loss, failure report).</summary>
    public void RewindSnapshot()
    {
        SnapshotSentOffset = SnapshotAckedOffset;
        SnapshotChunkInFlight = false;
    }

    public void BecomeProbe()
    {
        // Coming out of a snapshot, the follower holds at least the snapshot's index.
        if (State == ProgressState.Snapshot)
        {
            var pending = PendingSnapshot;
            ResetState(ProgressState.Probe);
            Next = Math.Max(Match + 1, pending + 1);
        }
        else
        {
            ResetState(ProgressState.Probe);
            Next = Match + 1;
        }
    }

    public void BecomeReplicate()
    {
        ResetState(ProgressState.Replicate);
        Next = Match + 1;
    }

    public void BecomeSnapshot(Snapshot snapshot)
    {
        ResetState(ProgressState.Snapshot);
        PendingSnapshot = snapshot.Metadata.Index;
        SnapshotInFlight = snapshot;
    }

    /// <summary>
    /// Releases the snapshot being streamed (its payload belongs to this progress: a staging file is deleted). Called
    /// whenever the progress leaves Snapshot state or is dropped (membership change, a new term's reset, the node
    /// released by its host).
    /// </summary>
    public void ReleaseSnapshot()
    {
        SnapshotInFlight?.Release();
        SnapshotInFlight = null;
    }

    private void ResetState(ProgressState state)
    {
        MsgAppFlowPaused = false;
        PendingSnapshot = 0;
        ReleaseSnapshot();
        SnapshotAckedOffset = 0;
        SnapshotSentOffset = 0;
        SnapshotChunkInFlight = false;
        SnapshotRewoundTo = null;
        SnapshotAnswered = false;
        State = state;
        Inflights.Reset();
    }

    /// <summary>Records that entries up to <paramref name="lastIndex"/> were sent (Next advances in Replicate; Probe pauses).</summary>
    public void SentEntries(int entryCount, ulong bytes, ulong lastIndex)
    {
        switch (State)
        {
            case ProgressState.Replicate:
                if (entryCount > 0 && !Inflights.Full)
                {
                    Next = lastIndex + 1;
                    Inflights.Add(lastIndex, bytes);
                }

                MsgAppFlowPaused = Inflights.Full;
                break;
            case ProgressState.Probe:
                MsgAppFlowPaused = true;
                break;
            default:
                throw new InvalidOperationException($"Sending entries in state {State}.");
        }
    }

    /// <summary>An acknowledgement up to <paramref name="n"/> arrived. Returns false if it was stale (nothing new matched).</summary>
    public bool MaybeUpdate(ulong n)
    {
        if (n <= Match)
        {
            return false;
        }

        Match = n;
        Next = Math.Max(Next, n + 1);
        MsgAppFlowPaused = false;
        return true;
    }

    /// <summary>
    /// A rejection of the Append at <paramref name="rejected"/> arrived with the follower's hint
    /// <paramref name="matchHint"/> (the highest index that might match). Returns false if stale.
    /// </summary>
    public bool MaybeDecrTo(ulong rejected, ulong matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            // Rejections of entries at or below Match are stale (they raced a later success).
            if (rejected <= Match)
            {
                return false;
            }

            // The pipeline is broken; restart right after what is known to match.
            Next = Match + 1;
            return true;
        }

        // Probe: only the answer to the probe we sent (for Next - 1) counts.
        if (Next - 1 != rejected)
        {
            return false;
        }

        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        MsgAppFlowPaused = false;
        return true;
    }

    /// <summary>True when nothing more may be sent now (probe waiting, window full, or streaming a snapshot).</summary>
    public bool IsPaused => State switch
    {
        ProgressState.Probe => MsgAppFlowPaused,
        ProgressState.Replicate => MsgAppFlowPaused,
        _ => true,
    };

    public override string ToString() =>
        $"{State} match={Match} next={Next}" + (IsLearner ? " learner" : string.Empty)
        + (State == ProgressState.Snapshot ? $" snap={PendingSnapshot}@{SnapshotAckedOffset}" : string.Empty)
        + (Inflights.Count > 0 ? $" inflight={Inflights.Count}" : string.Empty);
}
