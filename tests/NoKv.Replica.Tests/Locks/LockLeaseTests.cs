using System.Text;
using NoKv.Abstractions.Locks;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Tests.Core;
using Xunit;

namespace NoKv.Replica.Tests.Locks;

/// <summary>
/// Lease timing in one real replica core whose two peers the test plays (<see cref="ScriptedGroup"/>), on a clock the
/// test moves: only the leader ends leases, on its own clock; a new leader restarts every lease at its start; waiters
/// are woken by the release, not by polling; silent waiters leave the queue.
/// </summary>
public sealed class LockLeaseTests
{
    private static readonly Guid A = Guid.NewGuid(), Bee = Guid.NewGuid();

    [Fact]
    public void A_lease_ends_on_the_leaders_clock_and_the_next_waiter_gets_the_next_token()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        _answered = group.Sent.Count;
        Assert.Equal((LockOutcome.Granted, 1L), Outcome(Call(group, Acquire(A, leaseMs: 1000))));
        Assert.Equal(LockOutcome.Queued, Call(group, Acquire(Bee, leaseMs: 1000)).Outcome);
        long granted = group.NowMs;

        // Renewed at +600: the lease now runs to +1600 on the leader's clock.
        Steps(group, 6);
        Assert.Equal(LockOutcome.Renewed, Call(group, Renew(A, 1)).Outcome);
        Steps(group, 9);
        Assert.Equal(A, Status(group).Holder);

        Steps(group, 2);
        Assert.True(group.NowMs - granted >= 1600);
        Assert.Equal(Bee, Status(group).Holder);
        Assert.Equal(2, Status(group).Token);
        Assert.Equal(LockOutcome.NotHeld, Call(group, Renew(A, 1)).Outcome);
    }

    [Fact]
    public void A_new_leader_restarts_every_lease_at_its_own_start()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        _answered = group.Sent.Count;
        Steps(group, 1);
        Assert.Equal(LockOutcome.Granted, Call(group, Acquire(A, leaseMs: 2000)).Outcome);
        Steps(group, 1);

        // Peer B takes over (a higher term); this replica follows for much longer than the lease and, as a follower,
        // ends nothing.
        var b = group.PeerIdOf(ScriptedGroup.PeerB);
        group.Deliver(new Message { Type = MessageType.Heartbeat, From = b, To = group.PeerIdOf(ScriptedGroup.Self), Term = group.Core.Term + 1, Commit = group.Core.CommitIndex });
        Assert.False(group.Core.IsLeader);
        group.NowMs += 5_000;

        // Leader again: the lease restarts now, so it lasts a full lease from here, however long ago it was granted.
        group.ElectSelf();
        _answered = group.Sent.Count;
        long elected = group.NowMs;
        while (group.NowMs - elected < 1_800)
        {
            Steps(group, 1);
        }

        Assert.Equal(A, Status(group).Holder);
        Steps(group, 5);
        Assert.Null(Status(group).Holder);
        Assert.Equal(1, Status(group).LastToken);
    }

    [Fact]
    public void A_release_wakes_the_waiting_caller_at_once_with_its_grant()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        _answered = group.Sent.Count;
        Call(group, Acquire(A, leaseMs: 10_000));
        var waiting = group.Core.LockAsync(Acquire(Bee, leaseMs: 10_000, pollMs: 1_000));
        Settle(group);
        Assert.False(waiting.IsCompleted);

        var release = group.Core.LockAsync(Request(LockRequestKind.Release, A));
        long before = group.NowMs;
        Settle(group);
        Assert.True(waiting.IsCompleted, "the waiter was not woken by the release");
        Assert.Equal(before, group.NowMs);
        Assert.Equal(LockOutcome.Released, group.Run(release).Outcome);
        Assert.Equal((LockOutcome.Granted, 2L), Outcome(group.Run(waiting)));
    }

    [Fact]
    public void A_queued_caller_whose_poll_ends_is_answered_queued_and_a_silent_waiter_leaves_the_queue()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        _answered = group.Sent.Count;
        Call(group, Acquire(A, leaseMs: 60_000));
        var waiting = group.Core.LockAsync(Acquire(Bee, leaseMs: 1_000, pollMs: 500));
        while (!waiting.IsCompleted)
        {
            Steps(group, 1);
        }

        var answer = group.Run(waiting);
        Assert.Equal(LockOutcome.Queued, answer.Outcome);
        Assert.Equal(1, answer.QueuePosition);
        Assert.Equal(1, Status(group).Waiters);

        // Bee never asks again: after its grace (two request timeouts here) the leader drops it.
        Steps(group, 70);
        Assert.Equal(0, Status(group).Waiters);
        Assert.Equal(A, Status(group).Holder);
    }

    private static (LockOutcome, long) Outcome(LockResponse response) => (response.Outcome, response.Token);

    /// <summary>Ticks, with B and C answering everything the leader sends.</summary>
    private void Steps(ScriptedGroup group, int ticks)
    {
        for (int i = 0; i < ticks; i++)
        {
            group.Tick();
            Settle(group);
        }
    }

    /// <summary>Runs the core until idle, B and C answering every message it sent, until it sends nothing new.</summary>
    private void Settle(ScriptedGroup group)
    {
        group.Settle();
        while (_answered < group.Sent.Count)
        {
            _answered = group.AnswerAll(_answered);
            group.Settle();
        }
    }

    private int _answered;

    private LockResponse Call(ScriptedGroup group, LockRequest request)
    {
        var task = group.Core.LockAsync(request);
        Settle(group);
        return group.Run(task);
    }

    private LockStatusView Status(ScriptedGroup group)
    {
        var response = Call(group, Request(LockRequestKind.Status, Guid.Empty));
        return new LockStatusView(response.Holder, response.Token, response.LastToken, response.Waiters);
    }

    private static LockRequest Acquire(Guid owner, long leaseMs, long pollMs = 0) => new()
    {
        Shard = new ShardId(1), Epoch = 1, Kind = LockRequestKind.Acquire, Name = B("job"), Owner = owner, LeaseMs = leaseMs, Wait = true, PollMs = pollMs,
    };

    private static LockRequest Renew(Guid owner, long token) => Request(LockRequestKind.Renew, owner, token);

    private static LockRequest Request(LockRequestKind kind, Guid owner, long token = 0) => new()
    {
        Shard = new ShardId(1), Epoch = 1, Kind = kind, Name = B("job"), Owner = owner, Token = token,
    };

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private sealed record LockStatusView(Guid? Holder, long Token, long LastToken, int Waiters);
}
