using System.Diagnostics;
using NoKv.Abstractions.Errors;

namespace NoKv.Client.Routing;

/// <summary>
/// Deadline, attempt count, backoff and the last failure of one client operation. Not thread-safe: one
/// operation, one instance. Dispose to release the deadline timer.
/// </summary>
internal sealed class RetryState : IDisposable
{
    private readonly NoKvClientOptions _options;
    private readonly CancellationToken _callerToken;
    private readonly CancellationTokenSource _deadline;
    private readonly long _started = Stopwatch.GetTimestamp();
    private int _failures;

    public RetryState(string operation, NoKvClientOptions options, CancellationToken callerToken)
    {
        Operation = operation;
        _options = options;
        _callerToken = callerToken;
        _deadline = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        _deadline.CancelAfter(options.OperationTimeout);
    }

    public string Operation { get; }

    /// <summary>Fires at the caller's cancellation or the operation deadline, whichever is first.</summary>
    public CancellationToken Token => _deadline.Token;

    public int Attempts { get; private set; }

    public NoKvErrorCode LastError { get; private set; } = NoKvErrorCode.Timeout;

    public string? LastDetail { get; private set; }

    public void BeginAttempt() => Attempts++;

    /// <summary>Records a retryable failure; the next <see cref="BackoffAsync"/> waits longer.</summary>
    public void Fail(NoKvErrorCode code, string? detail)
    {
        LastError = code;
        LastDetail = detail;
        _failures++;
    }

    /// <summary>Waits before the next attempt; throws the deadline's typed error if it passes first.</summary>
    public async Task BackoffAsync()
    {
        double ceiling = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 16)));
        var delay = TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() * 0.5)));
        try
        {
            await Task.Delay(delay, _deadline.Token).ConfigureAwait(false);
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
        return new NoKvTimeoutException(Operation, Stopwatch.GetElapsedTime(_started), Attempts, LastError, LastDetail);
    }

    public void Dispose() => _deadline.Dispose();
}
