using NoKv.Raft.Messages;

namespace NoKv.Raft;

/// <summary>Candidate and pre-candidate behaviour: count votes, yield to a leader of our term.</summary>
internal sealed partial class RaftCore
{
    private void StepCandidate(in Message m)
    {
        // Only responses to the phase we are in count: a pre-candidate ignores real votes and vice versa.
        var myResponse = Role == StateRole.PreCandidate ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        switch (m.Type)
        {
            case MessageType.Append:
                BecomeFollower(m.Term, m.From);
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                BecomeFollower(m.Term, m.From);
                HandleSnapshotChunk(m);
                break;
            case MessageType.ReadIndexResponse:
                break;
            default:
                if (m.Type != myResponse)
                {
                    break;
                }

                var result = Poll(m.From, !m.Reject);
                if (result == Quorum.VoteResult.Won)
                {
                    if (Role == StateRole.PreCandidate)
                    {
                        Campaign(preVote: false, transfer: false);
                    }
                    else
                    {
                        BecomeLeader();
                    }
                }
                else if (result == Quorum.VoteResult.Lost)
                {
                    // A pre-vote loss keeps our term; a real loss also leaves the (already bumped) term as is.
                    BecomeFollower(Term, 0);
                }

                break;
        }
    }
}
