using System.Globalization;
using NoKv.Chaos.Cluster;
using NoKv.Chaos.Workload;

namespace NoKv.Chaos.Faults;

/// <summary>
/// Injects faults one at a time from a seeded schedule: a gap, then a fault of the next kind in a shuffled rotation
/// of the enabled kinds (so every kind occurs in a run of a few minutes), held for a random duration, then healed.
/// The schedule's choices (kinds, targets, durations, gaps) come from the seed alone; what the cluster does with
/// them (who leads, when a silo is back) does not, so a seed reproduces the faults, not the exact timeline.
/// </summary>
public sealed class FaultInjector
{
    private readonly ChaosCluster _cluster;
    private readonly RunClock _clock;
    private readonly ChaosOptions _options;
    private readonly Random _random;
    private readonly IClusterView _view;
    private readonly TextWriter _log;
    private readonly FaultKind[] _kinds;
    private readonly int _shards;
    private readonly List<InjectedFault> _faults = new();

    public FaultInjector(ChaosCluster cluster, RunClock clock, ChaosOptions options, Random random, IClusterView view, TextWriter log, IReadOnlyCollection<FaultKind> available, int shards)
    {
        _shards = shards;
        _cluster = cluster;
        _clock = clock;
        _options = options;
        _random = random;
        _view = view;
        _log = log;
        _kinds = options.Faults.Where(available.Contains).ToArray();
    }

    /// <summary>The faults injected so far (a copy: the soak monitor reads it while faults are added).</summary>
    public IReadOnlyList<InjectedFault> Faults
    {
        get
        {
            lock (_faults)
            {
                return _faults.ToList();
            }
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        if (_kinds.Length == 0)
        {
            return;
        }

        var rotation = new Queue<FaultKind>();
        int minute = 0;
        while (!stop.IsCancellationRequested)
        {
            // A soak puts one fault in every minute, SoakFaultOffset into it (a minute whose start finds the previous
            // fault still unhealed or the cluster unsettled gets it later, or not at all); a run uses seeded gaps.
            var gap = _options.SoakMinutes > 0
                ? TimeSpan.FromTicks(Math.Max(0, (TimeSpan.FromMinutes(minute++) + SoakFaultOffset - TimeSpan.FromMilliseconds(RunClock.ToMilliseconds(_clock.Now))).Ticks))
                : Between(_options.GapMin, _options.GapMax);
            if (!await DelayAsync(gap, stop))
            {
                return;
            }

            if (rotation.Count == 0)
            {
                foreach (var kind in _kinds.OrderBy(_ => _random.Next()))
                {
                    rotation.Enqueue(kind);
                }
            }

            var next = rotation.Dequeue();
            var duration = Between(_options.FaultMin, _options.FaultMax);

            // One fault at a time, on a recovered cluster (see Readiness); a cluster that does not recover in time gets
            // the fault anyway, marked, since that is a finding too.
            string? unsettled = null;
            try
            {
                var (leaders, why) = await Readiness.WaitAsync(_cluster, _view, _shards, SettledFor, SettleTimeout, stop);
                unsettled = leaders is null ? why : null;
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await InjectAsync(next, duration, unsettled, stop);
        }
    }

    /// <summary>Where in each soak minute its fault starts: after the minute's first samples, leaving the rest for recovery.</summary>
    public static readonly TimeSpan SoakFaultOffset = TimeSpan.FromSeconds(15);

    /// <summary>How long leaders must stay put before the next fault (a restarted store takes its preferred shards back).</summary>
    private static readonly TimeSpan SettledFor = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    private async Task InjectAsync(FaultKind kind, TimeSpan duration, string? unsettled, CancellationToken stop)
    {
        int n = _cluster.Nodes.Count;
        int target = _random.Next(1, n + 1);
        var leaders = await LeadersOrEmptyAsync();
        string Led(int store) => string.Join(",", leaders.Where(l => l.Value == store).Select(l => l.Key).OrderBy(s => s));
        IReadOnlyList<int> stores = [target];
        string note;
        long start;
        var startUtc = DateTime.UtcNow;
        switch (kind)
        {
            case FaultKind.Kill:
            case FaultKind.LeaderKill:
                if (kind == FaultKind.LeaderKill && leaders.Count > 0)
                {
                    target = leaders.GroupBy(l => l.Value).OrderByDescending(g => g.Count()).ThenBy(_ => _random.Next()).First().Key;
                    stores = [target];
                }

                note = $"SIGKILL store {target} (led shards [{Led(target)}]), restarted after {duration.TotalSeconds:F1} s";
                start = _clock.Now;
                await _cluster.KillAsync(target);
                await DelayAsync(duration, stop);
                await _cluster.RestartAsync(target);
                break;
            case FaultKind.Pause:
                note = $"SIGSTOP store {target} (led shards [{Led(target)}]) for {duration.TotalSeconds:F1} s";
                start = _clock.Now;
                await _cluster.FreezeAsync(target);
                await DelayAsync(duration, stop);
                await _cluster.ThawAsync(target);
                break;
            case FaultKind.Partition:
                int size = n == 5 ? _random.Next(1, 3) : 1;
                stores = Enumerable.Range(1, n).OrderBy(_ => _random.Next()).Take(size).Order().ToArray();
                note = $"stores [{string.Join(",", stores)}] cut off from the others (led shards [{string.Join(",", stores.Select(Led).Where(s => s.Length > 0))}]) for {duration.TotalSeconds:F1} s";
                start = _clock.Now;
                await _cluster.Lab!.PartitionAsync(stores.ToArray());
                await DelayAsync(duration, stop);
                await _cluster.Lab.HealAsync();
                break;
            case FaultKind.SlowDisk:
                note = string.Create(CultureInfo.InvariantCulture, $"store {target}'s disk slowed (every engine sync +{_options.SlowDiskMs} ms) for {duration.TotalSeconds:F1} s (led shards [{Led(target)}])");
                start = _clock.Now;
                await _cluster.SlowDiskAsync(target, _options.SlowDiskMs);
                await DelayAsync(duration, stop);
                await _cluster.NormalDisksAsync();
                break;
            default:
                int disk = _cluster.DiskStore!.Value;
                stores = [disk];
                start = _clock.Now;
                long filled = await _cluster.FillDiskAsync();
                note = string.Create(CultureInfo.InvariantCulture, $"store {disk}'s tmpfs filled ({filled >> 20} MiB ballast) for {duration.TotalSeconds:F1} s (led shards [{Led(disk)}])");
                await DelayAsync(duration, stop);
                await _cluster.FreeDiskAsync();
                break;
        }

        if (unsettled is not null)
        {
            note += $" [cluster not recovered from the previous fault after {SettleTimeout.TotalSeconds:F0} s: {unsettled}]";
        }

        var fault = new InjectedFault(kind, stores, start, _clock.Now, note);
        lock (_faults)
        {
            _faults.Add(fault);
        }

        _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[chaos] {RunClock.ToMilliseconds(start) / 1000:F1}s ({startUtc:HH:mm:ss.fff} UTC) {FaultNames.Name(kind)}: {note}"));
    }

    private async Task<Dictionary<long, int>> LeadersOrEmptyAsync()
    {
        try
        {
            return (await _view.StatusAsync()).Leaders;
        }
        catch (Exception)
        {
            return new Dictionary<long, int>();
        }
    }

    private TimeSpan Between(TimeSpan min, TimeSpan max) => min + ((max - min) * _random.NextDouble());

    /// <summary>False if <paramref name="stop"/> came first (the fault is then healed at once).</summary>
    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
