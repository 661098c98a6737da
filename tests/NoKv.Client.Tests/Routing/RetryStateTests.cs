using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Client.Routing;
using NoKv.Client.Tests.Fakes;
using Xunit;

namespace NoKv.Client.Tests.Routing;

public sealed class RetryStateTests
{
    private readonly ManualTimeProvider _clock = new();

    private static NoKvClientOptions Options(double initialMs = 20, double maxMs = 500, double operationMs = 15_000) => new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(initialMs),
        MaxBackoff = TimeSpan.FromMilliseconds(maxMs),
        OperationTimeout = TimeSpan.FromMilliseconds(operationMs),
    };

    [Theory]
    [InlineData(1)]
    [InlineData(20261206)]
    [InlineData(424242)]
    public void BackoffDoublesWithJitterUpToTheCap(int seed)
    {
        using var retry = new RetryState("Put", Options(), CancellationToken.None, _clock, new Random(seed));
        for (int failures = 0; failures < 40; failures++)
        {
            double ceiling = Math.Min(500, 20 * Math.Pow(2, failures));
            double delay = retry.NextBackoff().TotalMilliseconds;
            Assert.True(delay >= ceiling / 2 && delay <= ceiling, $"seed {seed}, after {failures} failures: {delay} ms not in [{ceiling / 2}, {ceiling}]");
            retry.Fail(NoKvErrorCode.NotLeader, null);
        }
    }

    [Fact]
    public void JitterCoversTheWholeRange()
    {
        // Over many draws the delays reach both ends of [ceiling/2, ceiling]; a fixed delay would re-align clients.
        const int seed = 7;
        using var retry = new RetryState("Put", Options(initialMs: 100, maxMs: 100), CancellationToken.None, _clock, new Random(seed));
        var delays = Enumerable.Range(0, 2000).Select(_ => retry.NextBackoff().TotalMilliseconds).ToArray();
        Assert.True(delays.Min() < 52 && delays.Max() > 98, $"seed {seed}: delays span {delays.Min()}-{delays.Max()} ms");
    }

    [Fact]
    public async Task BackoffWaitsItsDelayOnTheClock()
    {
        using var retry = new RetryState("Put", Options(initialMs: 100, maxMs: 100), CancellationToken.None, _clock, new Random(3));
        var expected = CopyOfNextBackoff(seed: 3, Options(initialMs: 100, maxMs: 100));
        var wait = retry.BackoffAsync();
        Assert.False(wait.IsCompleted);
        _clock.Advance(expected - TimeSpan.FromTicks(1));
        Assert.False(wait.IsCompleted);
        _clock.Advance(TimeSpan.FromTicks(1));
        await wait;
    }

    [Fact]
    public async Task TheDeadlineEndsABackoffWithATypedTimeoutNamingTheLastFailure()
    {
        using var retry = new RetryState("Put", Options(initialMs: 400, maxMs: 400, operationMs: 1000), CancellationToken.None, _clock, new Random(1));
        retry.BeginAttempt(new StoreId(1));
        retry.Fail(NoKvErrorCode.NotLeader, "store 1 is not the leader of shard 1");
        retry.BeginAttempt(new StoreId(2));
        retry.Fail(NoKvErrorCode.Timeout, "store 2 did not answer within 1500 ms");
        _clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.False(retry.Token.IsCancellationRequested);

        // The backoff (200-400 ms) would end after the deadline: the deadline wins.
        var wait = retry.BackoffAsync();
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(retry.Token.IsCancellationRequested);
        var error = await Assert.ThrowsAsync<NoKvTimeoutException>(() => wait);
        Assert.Equal("Put", error.Operation);
        Assert.Equal(2, error.Attempts);
        Assert.Equal(NoKvErrorCode.Timeout, error.LastError);
        Assert.Contains("store 2 did not answer", error.Message);
        Assert.Contains("1000 ms", error.Message);
    }

    [Fact]
    public void TheTokenFiresExactlyAtTheOperationTimeout()
    {
        using var retry = new RetryState("Get", Options(operationMs: 1000), CancellationToken.None, _clock, new Random(1));
        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(retry.Token.IsCancellationRequested);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(retry.Token.IsCancellationRequested);
        Assert.IsType<NoKvTimeoutException>(retry.Expired());
    }

    [Fact]
    public async Task TheCallersCancellationIsACancellationNotATimeout()
    {
        using var caller = new CancellationTokenSource();
        using var retry = new RetryState("Get", Options(), caller.Token, _clock, new Random(1));
        var wait = retry.BackoffAsync();
        caller.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        Assert.Throws<OperationCanceledException>(() => retry.Expired());
    }

    [Fact]
    public void OnlyTheFirstHintsAreFollowedAtOnce()
    {
        using var retry = new RetryState("Put", Options(), CancellationToken.None, _clock, new Random(1));
        var taken = Enumerable.Range(0, 5).Select(_ => retry.TakeImmediateRedirect()).ToArray();
        Assert.Equal([true, true, false, false, false], taken);
    }

    [Fact]
    public void AttemptsRecordTheirStore()
    {
        using var retry = new RetryState("Put", Options(), CancellationToken.None, _clock, new Random(1));
        Assert.Null(retry.LastStore);
        retry.BeginAttempt(new StoreId(2));
        retry.BeginAttempt(new StoreId(3));
        Assert.Equal(2, retry.Attempts);
        Assert.Equal(new StoreId(3), retry.LastStore);
    }

    /// <summary>The first delay a retry state over <c>new Random(seed)</c> draws (the constructor draws the spread first).</summary>
    private TimeSpan CopyOfNextBackoff(int seed, NoKvClientOptions options)
    {
        using var twin = new RetryState("Put", options, CancellationToken.None, _clock, new Random(seed));
        return twin.NextBackoff();
    }
}
