using NoKv.Abstractions.Errors;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

public sealed partial class ReplicaCore
{
    // Waiters the Raft node has accepted.
    private readonly Dictionary<ulong, ProposalWaiter> _proposals = new();
    private readonly Dictionary<long, ReadWaiter> _pendingReads = new();
    private readonly List<ReadWaiter> _readsAwaitingApply = new();
    private long _nextReadId;

    // Client waiters in arrival order, for ExpireWaiters. Every waiter gets the same timeout, so deadlines only grow
    // along each queue; completed waiters leave when they reach the head.
    private readonly Queue<ProposalWaiter> _proposalDeadlines = new();
    private readonly Queue<ReadWaiter> _readDeadlines = new();

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
    /// The replica is failing or going away: answers every client still waiting, including those whose request
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
        WakeLockPolls(null);
    }
}
