using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Locks;
using NoKv.Abstractions.Requests;
using NoKv.Replica.Commands;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

/// <summary>
/// The lock service of this shard's replica (docs/locks.md). The state machine keeps each lock's token counter,
/// holder and FIFO queue; this part times leases. Only the leader times them, on its own monotonic clock
/// (<see cref="IReplicaHost.NowMs"/>): a holder's lease runs from when the leader applied its grant or renewal,
/// and when it runs out the leader proposes <see cref="CommandType.ExpireLock"/>, which names the exact lease it saw
/// end, so the decision is replicated and void if a renewal overtook it. A replica that becomes leader restarts
/// every lease at its own start, so it never ends a lease before the previous leader could have. Waiting callers
/// are held in a bounded long-poll and woken by the apply that changes their lock.
/// </summary>
public sealed partial class ReplicaCore
{
    /// <summary>Shortest lease a lock may be acquired with (milliseconds).</summary>
    public const long MinLockLeaseMs = 100;

    /// <summary>Longest lease a lock may be acquired with (milliseconds): one day.</summary>
    public const long MaxLockLeaseMs = 24L * 60 * 60 * 1000;

    private readonly Dictionary<byte[], TrackedLease> _leases = new(ByteArrayComparer.Instance);
    private readonly Dictionary<(byte[] Name, Guid Owner), TrackedWaiter> _lockWaiters = new(NameOwnerComparer.Instance);
    private readonly PriorityQueue<byte[], long> _leaseDeadlines = new();
    private readonly PriorityQueue<(byte[] Name, Guid Owner), long> _waiterDeadlines = new();
    private readonly List<LockPoll> _lockPolls = new();

    // Set when this replica becomes leader (or a snapshot replaced the locks): leases are restarted from the
    // applied state at the next tick, and apply notifications are ignored until then.
    private bool _leasesStale = true;

    /// <summary>Serves one lock request (see <see cref="LockRequestKind"/>).</summary>
    public async Task<LockResponse> LockAsync(LockRequest request, CancellationToken cancellationToken = default)
    {
        var rejection = CheckServing() ?? CheckRouting(request.Shard, request.Epoch, request.Name) ?? CheckLockRequest(request);
        if (rejection is { } r)
        {
            return new LockResponse { Code = r.Code, CurrentEpoch = Descriptor.Epoch, Detail = r.Detail, LeaderHint = LeaderHint() };
        }

        if (request.Kind == LockRequestKind.Status)
        {
            var ready = await WaitReadableAsync(ReadConsistency.Linearizable, TimeSpan.Zero, cancellationToken).ConfigureAwait(true);
            if (ready != NoKvErrorCode.Ok)
            {
                return new LockResponse { Code = ready, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
            }

            var record = _stateMachine.ReadLock(request.Name);
            return new LockResponse
            {
                Code = NoKvErrorCode.Ok,
                CurrentEpoch = Descriptor.Epoch,
                Outcome = LockOutcome.Status,
                Holder = record?.Holder?.Owner,
                Token = record?.Holder?.Token ?? 0,
                LeaseMs = record?.Holder?.LeaseMs ?? 0,
                Waiters = record?.Waiters.Count ?? 0,
                LastToken = record?.LastToken ?? 0,
            };
        }

        if (!_node.IsLeader)
        {
            return new LockResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
        }

        return request.Kind switch
        {
            LockRequestKind.Acquire => await AcquireLockAsync(request, cancellationToken).ConfigureAwait(true),
            LockRequestKind.Renew => await ProposeLockAsync(new LockCommand(CommandType.RenewLock, Descriptor.Epoch, request.Name, request.Owner, Token: request.Token), LockOutcome.Renewed, cancellationToken).ConfigureAwait(true),
            _ => await ProposeLockAsync(new LockCommand(CommandType.ReleaseLock, Descriptor.Epoch, request.Name, request.Owner), LockOutcome.Released, cancellationToken).ConfigureAwait(true),
        };
    }

    /// <summary>
    /// Proposes the acquire; while the owner is queued and the poll allows, waits for its lock to change and proposes
    /// again. Answered Granted only by an acquire applied during this call, so the lease the client times from when it
    /// sent the call started, on this leader, no earlier than that (a grant made while the owner was between polls is
    /// renewed by the acquire of the next poll before it is reported).
    /// </summary>
    private async Task<LockResponse> AcquireLockAsync(LockRequest request, CancellationToken cancellationToken)
    {
        long pollMs = Math.Clamp(request.PollMs, 0, (long)_options.RequestTimeout.TotalMilliseconds / 2);
        long pollDeadline = _host.NowMs + pollMs;

        // A waiter that is already queued only waits: polling costs a read, not a log entry, until its lock changes.
        bool propose = !(request.Wait && _stateMachine.ReadLock(request.Name) is { } known && known.Holder?.Owner != request.Owner && known.PositionOf(request.Owner) > 0);
        while (true)
        {
            if (CheckServing() is { } stopped)
            {
                return new LockResponse { Code = stopped.Code, Detail = stopped.Detail, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
            }

            if (!_node.IsLeader)
            {
                return new LockResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
            }

            long position;
            if (propose)
            {
                var command = new LockCommand(CommandType.AcquireLock, Descriptor.Epoch, request.Name, request.Owner, LeaseMs: request.LeaseMs, Wait: request.Wait);
                var waiter = new ProposalWaiter(command.Encode(), Deadline());
                var response = await ProposeAndWaitAsync(waiter, cancellationToken).ConfigureAwait(true);
                if (response.Code != NoKvErrorCode.Ok)
                {
                    return new LockResponse { Code = response.Code, Detail = response.Detail, LeaderHint = response.LeaderHint, CurrentEpoch = response.CurrentEpoch };
                }

                if (response.Succeeded)
                {
                    return new LockResponse { Code = NoKvErrorCode.Ok, Outcome = LockOutcome.Granted, Token = waiter.Payload, CurrentEpoch = Descriptor.Epoch };
                }

                if (waiter.Payload == 0)
                {
                    return new LockResponse { Code = NoKvErrorCode.Ok, Outcome = LockOutcome.Busy, CurrentEpoch = Descriptor.Epoch };
                }

                position = waiter.Payload;
            }
            else
            {
                position = _stateMachine.ReadLock(request.Name)?.PositionOf(request.Owner) ?? 0;
            }

            propose = true;
            TouchWaiter(request.Name, request.Owner);
            if (!request.Wait || _host.NowMs >= pollDeadline)
            {
                return new LockResponse { Code = NoKvErrorCode.Ok, Outcome = LockOutcome.Queued, QueuePosition = (int)position, CurrentEpoch = Descriptor.Epoch };
            }

            // The lock may have changed since the apply that queued us (this continuation runs after the pump that
            // applied it, and a later pump may have applied a release): ask again at once if so.
            var record = _stateMachine.ReadLock(request.Name);
            if (position == 0 || record?.Holder?.Owner == request.Owner || record?.PositionOf(request.Owner) != position)
            {
                continue;
            }

            var poll = new LockPoll(request.Name, request.Owner, pollDeadline);
            _lockPolls.Add(poll);
            bool changed = await poll.WaitAsync(cancellationToken).ConfigureAwait(true);
            if (!changed)
            {
                return new LockResponse { Code = NoKvErrorCode.Ok, Outcome = LockOutcome.Queued, QueuePosition = (int)position, CurrentEpoch = Descriptor.Epoch };
            }
        }
    }

    private async Task<LockResponse> ProposeLockAsync(LockCommand command, LockOutcome success, CancellationToken cancellationToken)
    {
        var waiter = new ProposalWaiter(command.Encode(), Deadline());
        var response = await ProposeAndWaitAsync(waiter, cancellationToken).ConfigureAwait(true);
        if (response.Code != NoKvErrorCode.Ok)
        {
            return new LockResponse { Code = response.Code, Detail = response.Detail, LeaderHint = response.LeaderHint, CurrentEpoch = response.CurrentEpoch };
        }

        return new LockResponse
        {
            Code = NoKvErrorCode.Ok,
            Outcome = response.Succeeded ? success : LockOutcome.NotHeld,
            Token = waiter.Payload,
            CurrentEpoch = Descriptor.Epoch,
        };
    }

    private (NoKvErrorCode Code, string? Detail)? CheckLockRequest(LockRequest request)
    {
        if (_limits.CheckKey(request.Name) is { } e)
        {
            return (e.Code, e.Message);
        }

        return request.Kind switch
        {
            LockRequestKind.Acquire when request.LeaseMs is < MinLockLeaseMs or > MaxLockLeaseMs =>
                (NoKvErrorCode.InvalidLockRequest, $"lease {request.LeaseMs} ms is outside [{MinLockLeaseMs}, {MaxLockLeaseMs}] ms"),
            LockRequestKind.Acquire or LockRequestKind.Renew or LockRequestKind.Release when request.Owner == Guid.Empty =>
                (NoKvErrorCode.InvalidLockRequest, "the owner id must not be empty"),
            LockRequestKind.Renew when request.Token <= 0 => (NoKvErrorCode.InvalidLockRequest, $"token {request.Token} is not a granted token"),
            LockRequestKind.Acquire or LockRequestKind.Renew or LockRequestKind.Release or LockRequestKind.Status => null,
            _ => (NoKvErrorCode.InvalidLockRequest, $"unknown request kind {request.Kind}"),
        };
    }

    /// <summary>The command of a client write: fenced when the request carries a fence.</summary>
    private byte[] EncodeWrite(WriteRequest request)
    {
        var write = KvCommand.From(request, _host.WallClockMs);
        return request.Fence is { } fence ? new FencedWriteCommand(fence.Resource, fence.Token, write).Encode() : write.Encode();
    }

    private (NoKvErrorCode Code, string? Detail)? CheckFence(WriteRequest request)
    {
        if (request.Fence is not { } fence)
        {
            return null;
        }

        if (fence.Resource is null || _limits.CheckKey(fence.Resource) is not null)
        {
            return (NoKvErrorCode.InvalidLockRequest, "a fence names a lock: non-empty and no longer than a key");
        }

        return fence.Token <= 0 ? (NoKvErrorCode.InvalidLockRequest, $"fence token {fence.Token} is not a granted token") : null;
    }

    /// <summary>Leadership changed: a new leader restarts every lease at its next tick; a former one forgets them.</summary>
    private void OnLockRoleChange(bool leader)
    {
        _leasesStale = true;
        _leases.Clear();
        _lockWaiters.Clear();
        _leaseDeadlines.Clear();
        _waiterDeadlines.Clear();
        if (!leader)
        {
            WakeLockPolls(null);
        }
    }

    /// <summary>After an apply completed: time the leases it changed and wake the callers waiting on those locks.</summary>
    private void OnLocksApplied()
    {
        if (_stateMachine.TakeLocksReplaced())
        {
            _leasesStale = true;
            WakeLockPolls(null);
        }

        var changes = _stateMachine.TakeLockChanges();
        if (changes.Count == 0)
        {
            return;
        }

        foreach (var name in changes)
        {
            WakeLockPolls(name);
            if (_node.IsLeader && !_leasesStale)
            {
                Track(name, _stateMachine.ReadLock(name), _host.NowMs);
            }
        }
    }

    /// <summary>Once per tick: restart leases if needed, keep polling waiters alive, propose the expiries that are due.</summary>
    private void TickLocks()
    {
        long now = _host.NowMs;
        ExpireLockPolls(now);
        if (!_node.IsLeader || _applyHalt is not null || _failed)
        {
            return;
        }

        if (_leasesStale)
        {
            // Every lease (and waiter) restarts now: whatever the previous leader timed, this replica's clock is the
            // only one it may use, and starting late can only make a lease last longer than the holder assumes.
            _leasesStale = false;
            foreach (var (name, record) in _stateMachine.ReadActiveLocks())
            {
                Track(name, record, now);
            }
        }

        foreach (var poll in _lockPolls)
        {
            TouchWaiter(poll.Name, poll.Owner);
        }

        long retry = Math.Max(1, (long)_options.RequestTimeout.TotalMilliseconds);
        while (_leaseDeadlines.TryPeek(out var name, out long due) && due <= now)
        {
            _leaseDeadlines.Dequeue();
            if (!_leases.TryGetValue(name, out var lease))
            {
                continue;
            }

            if (lease.Deadline > now)
            {
                _leaseDeadlines.Enqueue(name, lease.Deadline);
                continue;
            }

            // Proposed without a waiter; if it does not apply (a lost proposal, a leader change) it is proposed again.
            _proposalInbox.Add(new ProposalWaiter(new LockCommand(CommandType.ExpireLock, Descriptor.Epoch, name, Token: lease.Token, LeaseSeq: lease.LeaseSeq).Encode()));
            ReplicaCoreLog.LockLeaseExpired(_logger, _name, Abstractions.Sharding.KeyFormatter.Format(name), lease.Token);
            _leaseDeadlines.Enqueue(name, now + retry);
        }

        while (_waiterDeadlines.TryPeek(out var key, out long due) && due <= now)
        {
            _waiterDeadlines.Dequeue();
            if (!_lockWaiters.TryGetValue(key, out var waiter))
            {
                continue;
            }

            long deadline = waiter.LastSeen + WaiterGraceMs(waiter.LeaseMs);
            if (deadline > now)
            {
                _waiterDeadlines.Enqueue(key, deadline);
                continue;
            }

            _proposalInbox.Add(new ProposalWaiter(new LockCommand(CommandType.ExpireLockWaiter, Descriptor.Epoch, key.Name, key.Owner).Encode()));
            _waiterDeadlines.Enqueue(key, now + retry);
        }
    }

    /// <summary>
    /// How long a waiter may go without asking before the leader drops it from the queue: its lease, and at least two
    /// request timeouts (a client re-polls at once after each long-poll, and retries through a failover meanwhile).
    /// </summary>
    private long WaiterGraceMs(long leaseMs) => Math.Max(leaseMs, 2 * (long)_options.RequestTimeout.TotalMilliseconds);

    /// <summary>Brings the lease and waiter timers of lock <paramref name="name"/> in line with its applied record.</summary>
    private void Track(byte[] name, LockRecord? record, long now)
    {
        if (record?.Holder is not { } holder)
        {
            _leases.Remove(name);
        }
        else if (!_leases.TryGetValue(name, out var lease))
        {
            _leases[name] = new TrackedLease { Token = holder.Token, LeaseSeq = record.LeaseSeq, Deadline = now + holder.LeaseMs };
            _leaseDeadlines.Enqueue(name, now + holder.LeaseMs);
        }
        else if (lease.Token != holder.Token || lease.LeaseSeq != record.LeaseSeq)
        {
            // A grant or renewal applied now: the lease runs from here (the deadline queue catches up lazily).
            lease.Token = holder.Token;
            lease.LeaseSeq = record.LeaseSeq;
            lease.Deadline = now + holder.LeaseMs;
        }

        // Waiters: new ones start their grace now, departed ones are forgotten.
        List<(byte[], Guid)>? gone = null;
        foreach (var key in _lockWaiters.Keys)
        {
            if (ByteArrayComparer.Instance.Equals(key.Name, name) && (record is null || record.PositionOf(key.Owner) == 0))
            {
                (gone ??= new()).Add(key);
            }
        }

        if (gone is not null)
        {
            foreach (var key in gone)
            {
                _lockWaiters.Remove(key);
            }
        }

        if (record is null)
        {
            return;
        }

        foreach (var waiter in record.Waiters)
        {
            var key = (name, waiter.Owner);
            if (!_lockWaiters.ContainsKey(key))
            {
                _lockWaiters[key] = new TrackedWaiter { LeaseMs = waiter.LeaseMs, LastSeen = now };
                _waiterDeadlines.Enqueue(key, now + WaiterGraceMs(waiter.LeaseMs));
            }
        }
    }

    private void TouchWaiter(byte[] name, Guid owner)
    {
        if (_lockWaiters.TryGetValue((name, owner), out var waiter))
        {
            waiter.LastSeen = _host.NowMs;
        }
    }

    /// <summary>Wakes the callers polling lock <paramref name="name"/> (every poll when null).</summary>
    private void WakeLockPolls(byte[]? name)
    {
        for (int i = _lockPolls.Count - 1; i >= 0; i--)
        {
            var poll = _lockPolls[i];
            if (name is null || ByteArrayComparer.Instance.Equals(poll.Name, name))
            {
                _lockPolls.RemoveAt(i);
                poll.Complete(true);
            }
        }
    }

    private void ExpireLockPolls(long now)
    {
        for (int i = _lockPolls.Count - 1; i >= 0; i--)
        {
            var poll = _lockPolls[i];
            if (poll.IsCompleted || poll.Deadline <= now)
            {
                _lockPolls.RemoveAt(i);
                poll.Complete(false);
            }
        }
    }

    /// <summary>A held lease as the leader times it.</summary>
    private sealed class TrackedLease
    {
        public long Token { get; set; }

        public long LeaseSeq { get; set; }

        /// <summary>Leader's <see cref="IReplicaHost.NowMs"/> at which the lease ends.</summary>
        public long Deadline { get; set; }
    }

    private sealed class TrackedWaiter
    {
        public long LeaseMs { get; init; }

        /// <summary>Leader's <see cref="IReplicaHost.NowMs"/> when the waiter last asked (or this leader started).</summary>
        public long LastSeen { get; set; }
    }

    private sealed class NameOwnerComparer : IEqualityComparer<(byte[] Name, Guid Owner)>
    {
        public static readonly NameOwnerComparer Instance = new();

        public bool Equals((byte[] Name, Guid Owner) x, (byte[] Name, Guid Owner) y) =>
            x.Owner == y.Owner && ByteArrayComparer.Instance.Equals(x.Name, y.Name);

        public int GetHashCode((byte[] Name, Guid Owner) obj) => HashCode.Combine(obj.Owner, ByteArrayComparer.Instance.GetHashCode(obj.Name));
    }
}
