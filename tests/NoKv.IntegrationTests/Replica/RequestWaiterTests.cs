using NoKv.Abstractions.Errors;
using NoKv.Replica.Waiters;
using Xunit;

namespace NoKv.IntegrationTests.Replica;

/// <summary>
/// The replica's client waiters alone: each completes once (first outcome wins, whether apply, timeout or the
/// caller's cancellation), and a cancellation registration stops mattering once released.
/// </summary>
public sealed class RequestWaiterTests
{
    [Fact]
    public async Task ProposalCompletesOnceAndLaterOutcomesAreIgnored()
    {
        var waiter = new ProposalWaiter([1, 2, 3], deadline: 1_000);
        Assert.Equal(1_000, waiter.Deadline);
        Assert.False(waiter.IsCompleted);

        waiter.Complete(NoKvErrorCode.Ok, true, 7);
        waiter.Complete(NoKvErrorCode.Timeout, false, 0);

        Assert.True(waiter.IsCompleted);
        Assert.Equal((NoKvErrorCode.Ok, true, 7UL), await waiter.Task);
    }

    [Fact]
    public void InternalProposalHasNoDeadline()
    {
        var waiter = new ProposalWaiter([1]);
        Assert.Equal(long.MaxValue, waiter.Deadline);
    }

    [Fact]
    public async Task CanceledTokenCancelsTheWaitAndLaterOutcomesAreIgnored()
    {
        using var cts = new CancellationTokenSource();
        var waiter = new ProposalWaiter([1], deadline: 0);
        waiter.CancelWith(cts.Token);

        cts.Cancel();
        waiter.Complete(NoKvErrorCode.Ok, true, 1);

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.Task);
        Assert.Equal(cts.Token, e.CancellationToken);
    }

    [Fact]
    public async Task ReleasedCancellationNoLongerCancels()
    {
        using var cts = new CancellationTokenSource();
        var waiter = new ReadWaiter(id: 5, deadline: 0);
        waiter.CancelWith(cts.Token);
        waiter.StopCancellation();

        cts.Cancel();
        Assert.False(waiter.IsCompleted);

        waiter.Complete(NoKvErrorCode.Timeout);
        Assert.Equal(NoKvErrorCode.Timeout, await waiter.Task);
    }

    [Fact]
    public async Task UncancelableTokenRegistersNothing()
    {
        var waiter = new ReadWaiter(id: 1, deadline: 0);
        waiter.CancelWith(CancellationToken.None);
        waiter.StopCancellation();

        waiter.Complete(NoKvErrorCode.NotLeader);
        waiter.Complete(NoKvErrorCode.Ok);
        Assert.Equal(NoKvErrorCode.NotLeader, await waiter.Task);
    }
}
