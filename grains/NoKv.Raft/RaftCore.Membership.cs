using NoKv.Raft.Messages;

namespace NoKv.Raft;

/// <summary>Applying committed membership changes, and the host-facing request entry points.</summary>
internal sealed partial class RaftCore
{
    /// <summary>
    /// Switches to the membership that results from a committed (and now applied) ConfChange.
    /// A change takes effect when applied, on every node alike.
    /// </summary>
    public ConfState ApplyConfChange(ConfChange change)
    {
        var next = Membership.ConfChanger.Apply(Tracker.ConfState(), change, out var changed);
        if (!changed)
        {
            return next;
        }

        Tracker.SetConfig(next, Log.LastIndex() + 1);
        if (Role != StateRole.Leader)
        {
            return next;
        }

        if (!Tracker.IsVoter(Id))
        {
            // Removed or demoted: step down. Without us the remaining voters elect a new leader
            // after an election timeout (their leases on us expire as our heartbeats stop).
            BecomeFollower(Term, 0);
            return next;
        }

        if (LeadTransferee != 0 && !Tracker.IsVoter(LeadTransferee))
        {
            AbortLeaderTransfer();
        }

        // The quorum changed: a smaller one may commit more now; new members need appends.
        MaybeCommit();
        broadcastPending = true;
        return next;
    }

    /// <summary>A read request made on this node by its host.</summary>
    public ProposalResult ReadIndex(ReadOnlyMemory<byte> context, ReadOnlyOption mode)
    {
        if (Role == StateRole.Leader)
        {
            HandleReadIndexRequest(Id, context, mode);
            return ProposalResult.Accepted(Log.Committed, Term, Id);
        }

        if (Lead == 0)
        {
            return ProposalResult.NotLeader(0);
        }

        // Reads are forwarded (unlike proposals): the answer is just an index, and the follower can
        // then serve the read from its own state machine once it has applied that index.
        Send(new Message { Type = MessageType.ReadIndex, To = Lead, From = Id, Term = Term, Index = (ulong)mode, Context = context });
        return ProposalResult.Accepted(0, Term, Lead);
    }

    /// <summary>A leadership-transfer request made on this node by its host.</summary>
    public ProposalResult TransferLeadership(ulong transferee)
    {
        if (Role == StateRole.Leader)
        {
            var pr = Tracker.Get(transferee);
            if (pr is null || pr.IsLearner)
            {
                return ProposalResult.Fail(ProposalStatus.Rejected, Id, $"Node {transferee} is not a voter.");
            }

            HandleTransferLeader(transferee);
            return ProposalResult.Accepted(0, Term, Id);
        }

        if (Lead == 0)
        {
            return ProposalResult.NotLeader(0);
        }

        Send(new Message { Type = MessageType.TransferLeader, To = Lead, From = transferee, Term = Term });
        return ProposalResult.Accepted(0, Term, Lead);
    }
}
