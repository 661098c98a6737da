using NoKv.Raft.Messages;
using NoKv.Raft.Snapshots;

namespace NoKv.Raft;

/// <summary>Follower behaviour: accept appends and snapshots from the leader, forward requests to it.</summary>
internal sealed partial class RaftCore
{
    private SnapshotReceiver? snapshotReceiver;

    /// <summary>Bytes of an incoming chunked snapshot held so far (0 when none is arriving).</summary>
    internal ulong IncomingSnapshotBytes => snapshotReceiver?.Received ?? 0;

    private void StepFollower(in Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append:
                electionElapsed = 0;
                Lead = m.From;
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                electionElapsed = 0;
                Lead = m.From;
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                electionElapsed = 0;
                Lead = m.From;
                HandleSnapshotChunk(m);
                break;
            case MessageType.TransferLeader:
                if (Lead != 0)
                {
                    Send(new Message { Type = MessageType.TransferLeader, To = Lead, From = m.From, Term = Term });
                }

                break;
            case MessageType.TimeoutNow:
                // The leader chose us: campaign at once, skipping pre-vote; voters drop their lease for it.
                Hup(transfer: true);
                break;
            case MessageType.ReadIndex:
                if (Lead != 0)
                {
                    Send(new Message { Type = MessageType.ReadIndex, To = Lead, From = m.From, Term = Term, Index = m.Index, Context = m.Context });
                }

                break;
            case MessageType.ReadIndexResponse:
                readStates.Add(new ReadState(m.Index, m.Context));
                break;
        }
    }

    private void HandleAppend(in Message m)
    {
        if (m.Index < Log.Committed)
        {
            // Everything up to our commit matches any leader's log: tell it where we are.
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, From = Id, Term = Term, Index = Log.Committed });
            return;
        }

        if (Log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries.Span, out var lastNew))
        {
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, From = Id, Term = Term, Index = lastNew });
            return;
        }

        // Mismatch. Hint the largest index that could still match: at most our last index, and
        // skipping back over our entries whose term exceeds the leader's term at m.Index (they cannot
        // match anything the leader has there). The leader skips its own side by our term there.
        var hint = Math.Min(m.Index, Log.LastIndex());
        hint = Log.FindConflictByTerm(hint, m.LogTerm, out var hintTerm);
        Send(new Message
        {
            Type = MessageType.AppendResponse,
            To = m.From,
            From = Id,
            Term = Term,
            Index = m.Index,
            Reject = true,
            RejectHint = hint,
            LogTerm = hintTerm,
        });
    }

    private void HandleHeartbeat(in Message m)
    {
        Log.CommitTo(Math.Min(m.Commit, Log.LastIndex()));
        // Echo the leader's round and send tick (Index, LogTerm): its ReadIndex and lease bookkeeping.
        Send(new Message { Type = MessageType.HeartbeatResponse, To = m.From, From = Id, Term = Term, Index = m.Index, LogTerm = m.LogTerm, Context = m.Context });
    }

    private void HandleSnapshotChunk(in Message m)
    {
        var chunk = m.Snapshot;
        if (chunk is null)
        {
            return;
        }

        var meta = chunk.Metadata;
        if (meta.Index <= Log.Committed)
        {
            // Nothing to gain: we already hold (at least) what the snapshot covers.
            DropSnapshotReceiver();
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, From = Id, Term = Term, Index = Log.Committed });
            return;
        }

        Snapshot? complete = null;
        if (m.ChunkOffset == 0 && (ulong)chunk.Data.Length == m.SnapshotSize)
        {
            // Single-chunk snapshot: no reassembly copy.
            complete = chunk;
            DropSnapshotReceiver();
        }
        else
        {
            if (snapshotReceiver is null || !snapshotReceiver.Matches(meta, m.SnapshotSize))
            {
                if (m.ChunkOffset != 0)
                {
                    // A chunk of a transfer we have no start for (we restarted, or it is a new
                    // snapshot): ask the leader to restart from 0.
                    SendSnapshotResponse(m, 0, reject: true);
                    return;
                }

                DropSnapshotReceiver();
                snapshotReceiver = new SnapshotReceiver(meta, m.SnapshotSize, CreateSnapshotSink(meta, m.SnapshotSize));
            }

            var receiver = snapshotReceiver;
            if (m.ChunkOffset != receiver.Received)
            {
                // Duplicate or out of order: tell the leader where to continue.
                SendSnapshotResponse(m, receiver.Received, reject: m.ChunkOffset > receiver.Received);
                return;
            }

            receiver.Accept(chunk.Data.Span);
            if (!receiver.Complete)
            {
                SendSnapshotResponse(m, receiver.Received, reject: false);
                return;
            }

            complete = receiver.ToSnapshot();
            snapshotReceiver = null;
        }

        bool restored = Restore(complete);
        if (!restored)
        {
            // Not handed to the host (stale, or the log already covers it): nobody else will release it.
            complete.Release();
        }

        var index = restored ? Log.LastIndex() : Log.Committed;
        Send(new Message { Type = MessageType.AppendResponse, To = m.From, From = Id, Term = Term, Index = index });
    }

    /// <summary>A sink from the host's factory, or one in memory (limited to 2 GiB: InvalidOperationException beyond).</summary>
    private SnapshotSink CreateSnapshotSink(SnapshotMetadata meta, ulong size) =>
        config.SnapshotSinkFactory is { } factory ? factory(meta, size) : new MemorySnapshotSink(size);

    /// <summary>Discards a partly received snapshot (its staged bytes go with it).</summary>
    private void DropSnapshotReceiver()
    {
        snapshotReceiver?.Dispose();
        snapshotReceiver = null;
    }

    /// <summary>Releases what the node holds of snapshots in flight, both ways: the host is closing it.</summary>
    internal void ReleaseSnapshots()
    {
        DropSnapshotReceiver();
        Tracker.ReleaseSnapshots();
    }

    private void SendSnapshotResponse(in Message m, ulong offset, bool reject) =>
        Send(new Message
        {
            Type = MessageType.SnapshotResponse,
            To = m.From,
            From = Id,
            Term = Term,
            Index = m.Snapshot!.Metadata.Index,
            ChunkOffset = offset,
            Reject = reject,
        });
}
