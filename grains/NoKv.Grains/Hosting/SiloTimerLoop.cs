namespace NoKv.Grains.Hosting;

/// <summary>
/// A silo service's periodic work on a background task: <see cref="Start"/> when the silo reaches the service's
/// lifecycle stage, then the tick every <c>interval</c> until <see cref="StopAsync"/> at shutdown. A tick runs only
/// after the previous one finished; the tick handles its own failures (a loop that ended on an exception would stop
/// the service silently), and is cancelled through its token at shutdown.
/// </summary>
public sealed class SiloTimerLoop
{
    private readonly TimeSpan _interval;
    private readonly Func<CancellationToken, Task> _tick;
    private CancellationTokenSource? _stop;
    private Task? _loop;

    public SiloTimerLoop(TimeSpan interval, Func<CancellationToken, Task> tick)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _interval = interval;
        _tick = tick;
    }

    public void Start()
    {
        _stop = new CancellationTokenSource();
        var stop = _stop.Token;
        _loop = Task.Run(() => RunAsync(stop), CancellationToken.None);
    }

    /// <summary>Cancels the loop and waits for a tick in progress, at most until <paramref name="cancellationToken"/>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop is null || _loop is null)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped, or shutdown would not wait longer.
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_interval);
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
        {
            await _tick(stop).ConfigureAwait(false);
        }
    }
}
