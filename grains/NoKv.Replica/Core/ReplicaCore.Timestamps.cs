using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

/// <summary>
/// The timestamp oracle, served by the controller group's leader from memory (docs/controller.md, "Timestamp oracle").
/// <para>The leader commits a window ahead: a compare-and-swap of the persisted high-water mark
/// (<see cref="ControllerRows.Timestamps"/>) from its current value V to V + window. Once that commits, every
/// timestamp in (V, new mark] is this leader's to hand out, in increasing order; nothing above the mark is ever handed
/// out, so a later leader, whose first window starts above the mark it reads, only ever hands out larger ones.</para>
/// <para>Real-time order across a leader change needs more: a deposed leader that does not know it yet must not hand
/// out a timestamp after the new leader has handed out a larger one. So this leader serves only under a lease. A
/// window proposed at time t commits once a majority received it, each after t; with check-quorum each of them
/// refuses to vote for anyone else until an election timeout after it heard from this leader, so no other leader
/// can exist before t + election timeout. The lease ends earlier than that by a margin for clock-rate drift.
/// Leadership transfer bypasses that refusal (the target campaigns at once), so a leader stops serving as soon as
/// it starts a transfer and does not trust its lease again until two election timeouts after the transfer ended.</para>
/// <para>Serving is one lock-free step in memory; a window is refilled in the background when it runs low or the
/// lease nears its end, so callers rarely wait for a commit.</para>
/// </summary>
public sealed partial class ReplicaCore
{
    // How much of an election timeout the lease may use; the rest absorbs clock-rate drift between silos.
    private const double LeaseFraction = 0.75;

    private ulong _tsTerm;
    private long _tsNext;
    private long _tsWindowEnd;
    private long _tsLeaseUntilMs;
    private long _tsTransferQuietFromMs;
    private Task<NoKvErrorCode>? _tsRefill;

    // Window swaps are writes of their own session (one per replica instance, so a restart never reuses a
    // sequence the shard remembers); the session row expires like any idle client's. Drawn from the replica's
    // seed, so a simulation replays exactly.
    private readonly Guid _tsSession;
    private long _tsSequence = -1;

    /// <summary>
    /// Hands out <paramref name="count"/> consecutive timestamps, each larger than every timestamp handed out by
    /// anyone before this call was made. Only the controller group's leader serves them.
    /// </summary>
    public async Task<TimestampResponse> TimestampsAsync(int count, CancellationToken cancellationToken = default)
    {
        if (count is < 1 or > TimestampBatch.MaxCount)
        {
            return new TimestampResponse { Code = NoKvErrorCode.InvalidRange, Detail = $"ask for 1 to {TimestampBatch.MaxCount} timestamps, not {count}", CurrentEpoch = Descriptor.Epoch };
        }

        if (Descriptor.Id != SystemShards.Controller)
        {
            return new TimestampResponse { Code = NoKvErrorCode.WrongShard, Detail = $"shard {Descriptor.Id} is not the controller group: it serves no timestamps", CurrentEpoch = Descriptor.Epoch };
        }

        long deadline = Deadline();
        while (true)
        {
            if (CheckServing() is { } refused)
            {
                return new TimestampResponse { Code = refused.Code, Detail = refused.Detail, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
            }

            if (!_node.IsLeader || _node.IsTransferringLeadership)
            {
                return new TimestampResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = _node.IsLeader ? null : LeaderHint(), CurrentEpoch = Descriptor.Epoch };
            }

            ForgetTimestampsOfOtherTerms();
            long now = _host.NowMs;
            if (now < _tsTransferQuietFromMs)
            {
                // The caller retries; by then either the transferee leads or the quiet period is over.
                return new TimestampResponse { Code = NoKvErrorCode.NotLeader, Detail = "a leadership transfer ended less than two election timeouts ago", CurrentEpoch = Descriptor.Epoch };
            }

            if (now < _tsLeaseUntilMs)
            {
                long first = Math.Max(_tsNext, _host.WallClockMs << TimestampBatch.LogicalBits);
                long last = first + count - 1;
                if (last <= _tsWindowEnd)
                {
                    _tsNext = last + 1;
                    if (_tsWindowEnd - last < WindowSize() / 2 || _tsLeaseUntilMs - now < LeaseMs() / 2)
                    {
                        _ = _tsRefill ?? StartTimestampRefill(count);
                    }

                    return new TimestampResponse { Code = NoKvErrorCode.Ok, Batch = new TimestampBatch(first, count), CurrentEpoch = Descriptor.Epoch };
                }
            }

            if (now >= deadline)
            {
                return new TimestampResponse { Code = NoKvErrorCode.Timeout, Detail = "no timestamp window committed in time", LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
            }

            cancellationToken.ThrowIfCancellationRequested();
            var code = await (_tsRefill ?? StartTimestampRefill(count)).ConfigureAwait(true);
            if (code != NoKvErrorCode.Ok)
            {
                return new TimestampResponse { Code = code, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
            }
        }
    }

    /// <summary>Called every tick: a transfer, even one that ends before the next request, suspends the lease.</summary>
    private void TickTimestampLease()
    {
        if (_node.IsTransferringLeadership)
        {
            _tsLeaseUntilMs = 0;
            _tsTransferQuietFromMs = _host.NowMs + (2 * ElectionTimeoutMs());
        }
    }

    private void ForgetTimestampsOfOtherTerms()
    {
        if (_tsTerm != _node.Term)
        {
            // A window belongs to the term that committed it; a new term starts with nothing to hand out.
            _tsTerm = _node.Term;
            _tsNext = 0;
            _tsWindowEnd = 0;
            _tsLeaseUntilMs = 0;
        }
    }

    private Task<NoKvErrorCode> StartTimestampRefill(int wanted)
    {
        var task = RefillTimestampWindowAsync(wanted);
        if (!task.IsCompleted)
        {
            _tsRefill = task;
        }

        return task;
    }

    private async Task<NoKvErrorCode> RefillTimestampWindowAsync(int wanted)
    {
        try
        {
            ulong term = _node.Term;
            long proposedAt = _host.NowMs;
            var (_, current, _, _) = _stateMachine.ReadWithExpiry(ControllerRows.Timestamps, _host.WallClockMs);
            long mark = current is null ? 0 : TimestampOracleRow.Decode(current);
            long start = Math.Max(Math.Max(mark + 1, _tsNext), _host.WallClockMs << TimestampBatch.LogicalBits);
            long end = checked(start + WindowSize() + wanted);
            var swap = new WriteRequest
            {
                Shard = SystemShards.Controller,
                Epoch = Descriptor.Epoch,
                Kind = WriteKind.CompareAndSwap,
                Key = ControllerRows.Timestamps,
                Expected = current,
                Value = TimestampOracleRow.Encode(end),
                Session = new ClientSession(_tsSession, NextTimestampSequence()),
            };
            var response = await ProposeAndWaitAsync(new ProposalWaiter(EncodeWrite(swap), Deadline()), CancellationToken.None).ConfigureAwait(true);
            if (response.Code != NoKvErrorCode.Ok)
            {
                return response.Code;
            }

            if (!response.Succeeded)
            {
                // Another window (an old leader's entry committed in this term) moved the mark first: the caller
                // retries against the mark as applied now.
                return NoKvErrorCode.Ok;
            }

            if (_node.Term != term || !_node.IsLeader)
            {
                return NoKvErrorCode.NotLeader;
            }

            var (_, applied, _, _) = _stateMachine.ReadWithExpiry(ControllerRows.Timestamps, _host.WallClockMs);
            if (applied is null || TimestampOracleRow.Decode(applied) != end)
            {
                // "Succeeded" but the mark is not ours: only a replayed outcome of another write with this session
                // and sequence could say that. Never serve a window on it.
                return NoKvErrorCode.Ok;
            }

            ForgetTimestampsOfOtherTerms();
            _tsNext = Math.Max(_tsNext, mark + 1);
            _tsWindowEnd = end;
            _tsLeaseUntilMs = Math.Max(_tsLeaseUntilMs, proposedAt + (long)(ElectionTimeoutMs() * LeaseFraction));
            return NoKvErrorCode.Ok;
        }
        catch (InvalidDataException)
        {
            // A mark this build cannot read: never guess a window; the operator sees the controller stall.
            return NoKvErrorCode.StoreUnavailable;
        }
        finally
        {
            _tsRefill = null;
        }
    }

    // Sequences start at the wall clock in microseconds, so even a session id drawn again after a restart would
    // continue above anything the shard remembers for it.
    private long NextTimestampSequence() => _tsSequence = _tsSequence < 0 ? _host.WallClockMs * 1000 : _tsSequence + 1;

    private static Guid TimestampSession(int randomSeed)
    {
        var bytes = new byte[16];
        new Random(randomSeed ^ 0x7453).NextBytes(bytes);
        return new Guid(bytes);
    }

    private long ElectionTimeoutMs() => _options.ElectionTicks * (long)_options.TickInterval.TotalMilliseconds;

    private long LeaseMs() => (long)(ElectionTimeoutMs() * LeaseFraction);

    // A window covers this much physical time, so one commit serves any number of callers for that long.
    private long WindowSize() => (long)_options.TimestampWindow.TotalMilliseconds << TimestampBatch.LogicalBits;
}
