using System.Collections.Concurrent;
using System.Diagnostics;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Locks;
using NoKv.Abstractions.Sharding;
using NoKv.Client.Locks;
using NoKv.Client.Tests.Fakes;
using Xunit;

namespace NoKv.Client.Tests.Locks;

/// <summary>
/// A lock handle's lease on the client's clock (a manual one here): automatic renewal a third of the way through the
/// conservative lease, the loss signal when renewals stop succeeding in time or are refused, and that a lapse is
/// final. The fake lock leader answers each renewal only when the test says so, and records when (on the manual
/// clock) each request arrived, so the schedule is checked exactly, not by wall time.
/// </summary>
public sealed class LockRenewalTests
{
    private static readonly ShardMap OneShard = FakeShardMapGrain.Map(1, [1, 2, 3]);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    /// <summary>The lease as the client counts on it: 3 s x (1 - 1%) - 100 ms (the default drift rate and margin).</summary>
    private static readonly TimeSpan Safe = TimeSpan.FromMilliseconds(2870);

    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Automatic_renewal_renews_a_third_of_the_way_through_and_keeps_the_lock_until_released()
    {
        var leader = new FakeLockLeader();
        await using var handle = await leader.Locks.AcquireAsync("job", Lease, TimeSpan.Zero, LockRenewal.Automatic);
        Assert.True(handle.RenewsAutomatically);
        await leader.RenewalParkedAsync();
        TimeSpan lastSent = TimeSpan.Zero;
        for (int renewal = 1; renewal <= 20; renewal++)
        {
            // Nothing is sent before a third of the lease since the last renewal was sent; then one renewal is.
            var due = lastSent + (Safe / 3);
            while (leader.Clock.Elapsed + Step < due)
            {
                leader.Clock.Advance(Step);
                Assert.True(handle.IsHeld);
                Assert.False(handle.LostToken.IsCancellationRequested);
            }

            leader.Clock.Advance(Step);
            var request = await leader.NextAsync(LockRequestKind.Renew);
            // (Task.Delay counts whole milliseconds, so the renewal may leave up to one early.)
            Assert.InRange(request.At, due - TimeSpan.FromMilliseconds(1), due + Step);
            Assert.Equal(handle.Token, request.Request.Token);
            request.Answer(LockOutcome.Renewed);
            lastSent = request.At;
            await WaitUntilAsync(() => handle.Remaining >= Safe - (leader.Clock.Elapsed - lastSent) - TimeSpan.FromMilliseconds(1), "the renewal to extend the lease");
            await leader.RenewalParkedAsync();
        }

        Assert.Equal(20, leader.Count(LockRequestKind.Renew));
        Assert.True(await handle.ReleaseAsync());
        Assert.True(handle.LostToken.IsCancellationRequested);
        Assert.False(handle.IsHeld);

        // Released: no renewal is ever sent again.
        leader.Clock.Advance(Lease * 3);
        await Task.Yield();
        Assert.Equal(20, leader.Count(LockRequestKind.Renew));
    }

    [Fact]
    public async Task When_no_renewal_succeeds_the_loss_fires_exactly_when_the_conservative_lease_ends_and_the_lock_is_given_back()
    {
        // The leader is unreachable: renewals (and their retries after each attempt timeout) are never answered.
        var leader = new FakeLockLeader();
        var handle = await leader.Locks.AcquireAsync("job", Lease, TimeSpan.Zero, LockRenewal.Automatic);
        await leader.RenewalParkedAsync();
        while (leader.Clock.Elapsed + Step < Safe)
        {
            leader.Clock.Advance(Step);
            Assert.True(handle.IsHeld, $"not held at {leader.Clock.Elapsed}");
            Assert.False(handle.LostToken.IsCancellationRequested, $"loss signalled at {leader.Clock.Elapsed}, before the lease ends at {Safe}");
        }

        leader.Clock.Advance(Step);
        Assert.True(handle.LostToken.IsCancellationRequested);
        Assert.False(handle.IsHeld);
        Assert.Equal(TimeSpan.Zero, handle.Remaining);

        Assert.True(leader.Count(LockRequestKind.Renew) >= 1, "no renewal was tried");

        // The background loop gives the lock back, so a waiter need not wait for the leader to expire it.
        await WaitUntilAsync(() => leader.Count(LockRequestKind.Release) == 1, "the release of the lost lock");
        Assert.Equal([handle.Owner], leader.ReleasedBy);
        await Assert.ThrowsAsync<LockLostException>(() => handle.RenewAsync());
    }

    [Fact]
    public async Task A_refused_renewal_ends_the_handle_at_once_and_renewals_stop()
    {
        var leader = new FakeLockLeader();
        var handle = await leader.Locks.AcquireAsync("job", Lease, TimeSpan.Zero, LockRenewal.Automatic);
        await leader.RenewalParkedAsync();
        leader.Clock.Advance(Safe / 3 + Step);
        (await leader.NextAsync(LockRequestKind.Renew)).Answer(LockOutcome.NotHeld);
        await WaitUntilAsync(() => handle.LostToken.IsCancellationRequested, "the loss signal");
        Assert.False(handle.IsHeld);
        await WaitUntilAsync(() => leader.Count(LockRequestKind.Release) == 1, "the release of the lost lock");

        leader.Clock.Advance(Lease * 3);
        await Task.Yield();
        Assert.Equal(1, leader.Count(LockRequestKind.Renew));
        await Assert.ThrowsAsync<LockLostException>(() => handle.RenewAsync());
    }

    [Fact]
    public async Task A_renewal_answered_after_the_lease_lapsed_does_not_revive_the_handle()
    {
        // Manual renewal: no background loop; the loss signal still fires when the lease ends.
        var leader = new FakeLockLeader();
        var handle = await leader.Locks.AcquireAsync("job", Lease, TimeSpan.Zero);
        Assert.False(handle.RenewsAutomatically);
        leader.Clock.Advance(Safe - Step);
        var renewing = handle.RenewAsync();
        var renewal = await leader.NextAsync(LockRequestKind.Renew);

        // The answer is slow: the lease the handle could prove ends meanwhile, so the holder must already have stopped.
        leader.Clock.Advance(Step);
        Assert.True(handle.LostToken.IsCancellationRequested);
        renewal.Answer(LockOutcome.Renewed);
        await Assert.ThrowsAsync<LockLostException>(() => renewing);
        Assert.False(handle.IsHeld);
        Assert.Equal(0, leader.Count(LockRequestKind.Release));
        leader.Clock.Advance(Lease);
        Assert.Equal(1, leader.Count(LockRequestKind.Renew));
    }

    [Fact]
    public async Task A_manual_renewal_in_time_moves_the_loss_signal_and_an_attached_handle_waits_for_its_first_renewal()
    {
        var leader = new FakeLockLeader();
        var handle = await leader.Locks.AcquireAsync("job", Lease, TimeSpan.Zero);
        leader.Clock.Advance(TimeSpan.FromSeconds(2));
        var renewing = handle.RenewAsync();
        (await leader.NextAsync(LockRequestKind.Renew)).Answer(LockOutcome.Renewed);
        await renewing;

        // The lease now ends 2.87 s after the renewal was sent, at 4.87 s.
        leader.Clock.Advance(Safe - Step);
        Assert.False(handle.LostToken.IsCancellationRequested);
        leader.Clock.Advance(Step);
        Assert.True(handle.LostToken.IsCancellationRequested);

        // An attached handle (owner and token from elsewhere) proves nothing until renewed, but is not lost either.
        var attached = leader.Locks.Attach("job", Guid.NewGuid(), 9, Lease);
        leader.Clock.Advance(Lease * 2);
        Assert.False(attached.IsHeld);
        Assert.False(attached.LostToken.IsCancellationRequested);
        var first = attached.RenewAsync();
        (await leader.NextAsync(LockRequestKind.Renew)).Answer(LockOutcome.Renewed);
        await first;
        Assert.True(attached.IsHeld);
    }

    [Fact]
    public async Task An_unknown_renewal_mode_is_refused_before_anything_is_sent()
    {
        var leader = new FakeLockLeader();
        await Assert.ThrowsAsync<InvalidLockRequestException>(() => leader.Locks.AcquireAsync("job", Lease, TimeSpan.Zero, (LockRenewal)7));
        Assert.Equal(0, leader.Count(LockRequestKind.Acquire));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Patience, $"timed out waiting for {what}");
            await Task.Delay(1);
        }
    }

    /// <summary>
    /// The lock's leader as the client sees it: grants acquires and releases at once (token 7) and queues renewals
    /// until the test answers them.
    /// </summary>
    private sealed class FakeLockLeader
    {
        private readonly ConcurrentQueue<PendingLockRequest> _pending = new();
        private readonly ConcurrentDictionary<LockRequestKind, int> _counts = new();

        public FakeLockLeader()
        {
            Client = new FakeClient(OneShard, time: Clock);
            Client.Replicas.RespondLock = request =>
            {
                _counts.AddOrUpdate(request.Kind, 1, (_, n) => n + 1);
                switch (request.Kind)
                {
                    case LockRequestKind.Acquire:
                        return Task.FromResult(new LockResponse { Code = NoKvErrorCode.Ok, Outcome = LockOutcome.Granted, Token = 7, CurrentEpoch = request.Epoch });
                    case LockRequestKind.Release:
                        ReleasedBy.Enqueue(request.Owner);
                        return Task.FromResult(new LockResponse { Code = NoKvErrorCode.Ok, Outcome = LockOutcome.Released, CurrentEpoch = request.Epoch });
                }

                var pending = new PendingLockRequest(request, Clock.Elapsed);
                _pending.Enqueue(pending);
                return pending.Response;
            };
        }

        public ManualTimeProvider Clock { get; } = new();

        public FakeClient Client { get; }

        public ILockService Locks => Client.Locks;

        public ConcurrentQueue<Guid> ReleasedBy { get; } = new();

        public int Count(LockRequestKind kind) => _counts.TryGetValue(kind, out int n) ? n : 0;

        /// <summary>
        /// Waits until the handle's background loop sleeps until its next renewal: two timers armed on the clock (the
        /// lease's end and the renewal's delay), none of a call in flight. Advancing earlier would race the loop.
        /// </summary>
        public Task RenewalParkedAsync() => WaitUntilAsync(() => Clock.PendingTimers == 2, "the renewal loop to wait for its next renewal");

        /// <summary>The next request of <paramref name="kind"/> not answered yet (earlier ones of other kinds are left unanswered).</summary>
        public async Task<PendingLockRequest> NextAsync(LockRequestKind kind)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                foreach (var pending in _pending)
                {
                    if (pending.Request.Kind == kind && pending.TryTake())
                    {
                        return pending;
                    }
                }

                Assert.True(clock.Elapsed < Patience, $"no {kind} request arrived (now {Clock.Elapsed})");
                await Task.Delay(1);
            }
        }
    }

    private sealed class PendingLockRequest(LockRequest request, TimeSpan at)
    {
        private readonly TaskCompletionSource<LockResponse> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _taken;

        public LockRequest Request { get; } = request;

        /// <summary>When the request arrived, on the manual clock.</summary>
        public TimeSpan At { get; } = at;

        public Task<LockResponse> Response => _response.Task;

        public bool TryTake() => Interlocked.Exchange(ref _taken, 1) == 0;

        public void Answer(LockOutcome outcome) =>
            _response.SetResult(new LockResponse { Code = NoKvErrorCode.Ok, Outcome = outcome, Token = Request.Token, CurrentEpoch = Request.Epoch });
    }
}
