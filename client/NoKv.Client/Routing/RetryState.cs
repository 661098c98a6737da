using System.Diagnostics;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Client.Diagnostics;

namespace NoKv.Client.Routing;

/// <summary>
/// Deadline, attempts, backoff and the last failure of one client operation. Not thread-safe: one operation, one
/// instance. Dispose to release the deadline timer.
/// <para>Backoff: the n-th failure that backs off waits a uniformly random time in [ceiling/2, ceiling], where
/// ceiling = min(MaxBackoff, InitialBackoff x 2^n): the jitter spreads clients that failed together, the cap keeps a
/// long outage from stretching the wait past what a retry can learn.</para>
/// <para>Telemetry: the operation's span starts with this object and ends at <see cref="Dispose"/>, which also records
/// the operation's metrics (<see cref="ClientTelemetry"/>) with the outcome set by <see cref="Succeeded"/> or
/// <see cref="Failed"/>; an operation disposed without one ended by its deadline or the caller's cancellation.</para>
/// </summary>
internal sealed class RetryState : IDisposable
{
    /// <summary>How many NotLeader hints in a row are followed at once; later ones back off first, so two replicas
    /// that point at each other (a leader change under way) cannot make a client spin.</summary>
    public const int ImmediateRedirects = 2;

    private readonly NoKvClientOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly CancellationToken _callerToken;
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _deadline;
    private readonly long _started;
    private readonly Activity? _activity;
    private int _failures;
    private int _redirects;
    private NoKvErrorCode? _outcome;

    /// <param name="random">Jitter and the replica spread of reads; used by this operation only (not thread-safe
    /// unless it is <see cref="Random.Shared"/>).</param>
    public RetryState(string operation, NoKvClientOptions options, CancellationToken callerToken, TimeProvider time, Random random)
    {
        Operation = operation;
        _options = options;
        _time = time;
        _random = random;
        _callerToken = callerToken;
        _started = time.GetTimestamp();
        _timer = new CancellationTokenSource(options.OperationTimeout, time);
        // Most callers pass no token: then the deadline timer alone is the operation's token (one source, not two).
        _deadline = callerToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(callerToken, _timer.Token) : _timer;
        Spread = random.Next();
        _activity = ClientTelemetry.Source.HasListeners() ? ClientTelemetry.Source.StartActivity("nokv.client." + operation, ActivityKind.Client) : null;
    }

    public string Operation { get; }

    /// <summary>Fires at the caller's cancellation or the operation deadline, whichever is first.</summary>
    public CancellationToken Token => _deadline.Token;

    public int Attempts { get; private set; }

    /// <summary>The store the latest attempt went to, or null before the first.</summary>
    public StoreId? LastStore { get; private set; }

    /// <summary>A random offset fixed for the operation, so reads any replica may serve spread over the replicas.</summary>
    public int Spread { get; }

    public NoKvErrorCode LastError { get; private set; } = NoKvErrorCode.Timeout;

    public string? LastDetail { get; private set; }

    public TimeSpan Elapsed => _time.GetElapsedTime(_started);

    public void BeginAttempt(StoreId store)
    {
        Attempts++;
        LastStore = store;
    }

    /// <summary>Records a retryable failure; the next <see cref="BackoffAsync"/> waits longer.</summary>
    public void Fail(NoKvErrorCode code, string? detail)
    {
        LastError = code;
        LastDetail = detail;
        _failures++;
        ClientTelemetry.Retries.Add(1, new KeyValuePair<string, object?>("operation", Operation), new KeyValuePair<string, object?>("reason", NoKvErrorCodeNames.Of(code)));
        _activity?.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection { ["reason"] = NoKvErrorCodeNames.Of(code), ["store"] = LastStore?.Value, ["detail"] = detail }));
    }

    /// <summary>The operation succeeded (for its metrics and span).</summary>
    public void Succeeded() => _outcome = NoKvErrorCode.Ok;

    /// <summary>The operation ends with the final error <paramref name="code"/> (for its metrics and span).</summary>
    public void Failed(NoKvErrorCode code) => _outcome = code;

    /// <summary>
    /// A NotLeader answer named another leader: true while the operation may follow such hints at once (the first
    /// <see cref="ImmediateRedirects"/>); after that the caller backs off before following one.
    /// </summary>
    public bool TakeImmediateRedirect() => ++_redirects <= ImmediateRedirects;

    /// <summary>The wait before the next attempt, for the failures recorded so far (see the class remarks).</summary>
    public TimeSpan NextBackoff()
    {
        double ceiling = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 16)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (_random.NextDouble() * 0.5)));
    }

    /// <summary>Waits before the next attempt; throws the deadline's typed error if it passes first.</summary>
    public async Task BackoffAsync()
    {
        try
        {
            await Task.Delay(NextBackoff(), _time, _deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw Expired();
        }
    }

    /// <summary>The exception for a fired <see cref="Token"/>: the caller's cancellation, or a typed timeout.</summary>
    public Exception Expired()
    {
        _callerToken.ThrowIfCancellationRequested();
        return new NoKvTimeoutException(Operation, Elapsed, Attempts, LastError, LastDetail);
    }

    public void Dispose()
    {
        Complete();
        if (!ReferenceEquals(_deadline, _timer))
        {
            _deadline.Dispose();
        }

        _timer.Dispose();
    }

    private void Complete()
    {
        string result = _outcome is { } code ? NoKvErrorCodeNames.Of(code)
            : _callerToken.IsCancellationRequested ? "canceled"
            : _timer.IsCancellationRequested ? "deadline_exceeded"
            : "error";
        var operation = new KeyValuePair<string, object?>("operation", Operation);
        ClientTelemetry.Operations.Add(1, operation, new KeyValuePair<string, object?>("result", result));
        ClientTelemetry.OperationDuration.Record(_time.GetElapsedTime(_started).TotalSeconds, operation);
        if (_outcome != NoKvErrorCode.Ok)
        {
            ClientTelemetry.Errors.Add(1, operation, new KeyValuePair<string, object?>("code", result));
        }

        if (_activity is not null)
        {
            _activity.SetTag("nokv.attempts", Attempts);
            _activity.SetTag("nokv.result", result);
            if (_outcome != NoKvErrorCode.Ok)
            {
                _activity.SetStatus(ActivityStatusCode.Error, result);
            }

            _activity.Dispose();
        }
    }
}
