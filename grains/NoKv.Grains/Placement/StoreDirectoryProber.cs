using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Routing;
using NoKv.Grains.Hosting;
using NoKv.Grains.Store;
using Orleans.Runtime;

namespace NoKv.Grains.Placement;

/// <summary>
/// Fills the gaps of <see cref="StoreDirectory"/>: every <see cref="Interval"/> it asks each active silo whose store
/// is unknown which store it hosts (<see cref="IStoreService.DescribeAsync"/> on that silo), all at once and each
/// bounded by <see cref="AskTimeout"/>, so a dead or frozen silo still listed as active delays no other answer.
/// When every store is known a round only walks the membership list.
/// </summary>
public sealed partial class StoreDirectoryProber : ILifecycleParticipant<ISiloLifecycle>
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);

    private readonly StoreDirectory _directory;
    private readonly IGrainFactory _grains;
    private readonly LocalStore _store;
    private readonly ILocalSiloDetails _silo;
    private readonly ILogger<StoreDirectoryProber> _logger;
    private readonly HashSet<SiloAddress> _asking = new();
    private readonly SiloTimerLoop _loop;

    public StoreDirectoryProber(StoreDirectory directory, IGrainFactory grains, LocalStore store, ILocalSiloDetails silo, ILogger<StoreDirectoryProber> logger)
    {
        _directory = directory;
        _grains = grains;
        _store = store;
        _silo = silo;
        _logger = logger;
        _loop = new SiloTimerLoop(Interval, ProbeRound);
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(StoreDirectoryProber), ServiceLifecycleStage.Active, StartAsync, _loop.StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        // This silo knows its own store before any metadata has spread.
        _directory.Learn(_silo.SiloAddress, _store.Id);
        _loop.Start();
        return Task.CompletedTask;
    }

    private Task ProbeRound(CancellationToken stop)
    {
        try
        {
            _directory.ForgetDeparted();
            foreach (var silo in _directory.Unresolved())
            {
                lock (_asking)
                {
                    if (!_asking.Add(silo))
                    {
                        continue;
                    }
                }

                _ = AskAsync(silo, stop);
            }
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            LogRoundFailed(e);
        }

        return Task.CompletedTask;
    }

    private async Task AskAsync(SiloAddress silo, CancellationToken stop)
    {
        try
        {
            var store = await _grains.GetGrain<IStoreService>(StoreServiceIds.At(silo)).DescribeAsync().WaitAsync(AskTimeout, stop).ConfigureAwait(false);
            _directory.Learn(silo, store);
            LogLearned(silo, store.Value);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            // Asked again next round while the silo is still listed as active.
            LogAskFailed(silo, e.GetType().Name, e.Message);
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
        finally
        {
            lock (_asking)
            {
                _asking.Remove(silo);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Store directory: silo {Silo} hosts store {Store} (learned by asking it; the silo metadata cache had no entry)")]
    private partial void LogLearned(SiloAddress silo, int store);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Store directory: asking silo {Silo} for its store failed: {Error}: {Message}")]
    private partial void LogAskFailed(SiloAddress silo, string error, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store directory: a probe round failed")]
    private partial void LogRoundFailed(Exception e);
}
