using System.Collections.Concurrent;
using System.Diagnostics;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Grains;
using NoKv.Client.Tests.Fakes;
using NoKv.Client.Timestamps;
using Xunit;

namespace NoKv.Client.Tests.Timestamps;

/// <summary>
/// The client's timestamp source against a scripted oracle on a manual clock: a request that never comes back (sent
/// through a gateway that died) is abandoned after a bounded attempt and sent again, and the whole request still
/// gives up at the operation timeout.
/// </summary>
public sealed class TimestampSourceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly NoKvClientOptions Options = new()
    {
        AttemptTimeout = TimeSpan.FromSeconds(1),
        OperationTimeout = TimeSpan.FromSeconds(20),
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(20),
    };

    [Fact]
    public async Task A_request_that_never_returns_is_sent_again_after_a_bounded_attempt()
    {
        var clock = new ManualTimeProvider();
        var oracle = new ScriptedOracle();
        oracle.Answers.Enqueue(new TaskCompletionSource<TimestampBatch>().Task);
        oracle.Answers.Enqueue(Task.FromResult(new TimestampBatch(500, 1)));
        var source = new TimestampSource(oracle, Options, clock);

        var pending = source.GetTimestampAsync().AsTask();
        await WaitUntilAsync(() => oracle.Calls == 1 && clock.PendingTimers > 0, "the first attempt");

        // Just short of four attempt timeouts the first attempt is still awaited...
        clock.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromMilliseconds(1));
        Assert.False(pending.IsCompleted);
        Assert.Equal(1, oracle.Calls);

        // ...then abandoned: after the backoff the request goes out again and the second answer serves the caller.
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await WaitUntilAsync(() => clock.PendingTimers > 0 || oracle.Calls == 2, "the backoff after the abandoned attempt");
        clock.Advance(Options.InitialBackoff);
        Assert.Equal(500, await pending.WaitAsync(Patience));
        Assert.Equal(2, oracle.Calls);
    }

    [Fact]
    public async Task An_oracle_that_never_answers_fails_the_request_at_the_operation_timeout()
    {
        var clock = new ManualTimeProvider();
        var oracle = new ScriptedOracle();
        var source = new TimestampSource(oracle, Options, clock);

        var pending = source.GetTimestampAsync().AsTask();
        var deadline = Stopwatch.StartNew();
        while (!pending.IsCompleted)
        {
            Assert.True(deadline.Elapsed < Patience, "the request never gave up");
            Assert.True(clock.Elapsed <= Options.OperationTimeout + TimeSpan.FromSeconds(1), $"still waiting at {clock.Elapsed}");
            if (clock.PendingTimers > 0)
            {
                clock.Advance(TimeSpan.FromMilliseconds(10));
            }
            else
            {
                await Task.Delay(1);
            }
        }

        var failure = await Assert.ThrowsAsync<NoKvTimeoutException>(() => pending);
        Assert.True(oracle.Calls >= 4, $"only {oracle.Calls} attempts in {clock.Elapsed}");
        Assert.True(clock.Elapsed >= Options.OperationTimeout - TimeSpan.FromSeconds(4), $"gave up early, at {clock.Elapsed}: {failure.Message}");
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

    /// <summary>Answers each call with the next scripted task; with none left, a task that never completes.</summary>
    private sealed class ScriptedOracle : ITimestampOracleGrain
    {
        private int _calls;

        public ConcurrentQueue<Task<TimestampBatch>> Answers { get; } = new();

        public int Calls => Volatile.Read(ref _calls);

        public Task<TimestampBatch> GetTimestampsAsync(int count)
        {
            Interlocked.Increment(ref _calls);
            return Answers.TryDequeue(out var answer) ? answer : new TaskCompletionSource<TimestampBatch>().Task;
        }
    }
}
