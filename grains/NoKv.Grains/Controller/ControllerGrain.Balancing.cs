using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Balancing;

namespace NoKv.Grains.Controller;

/// <summary>
/// The balancer's place in the controller logic: every <see cref="NoKvControllerOptions.BalanceInterval"/>, inside the
/// operation round, it reads the committed rows, adds the leaders' latest shard figures from heartbeats, asks the
/// Orleans-free <see cref="Balancer"/> what to do and starts it as ordinary operations (leader transfers and replica
/// moves through the operation loop, splits through the split operation), so everything it starts is crash-safe and
/// resumable the same way as an operator's command.
/// </summary>
public sealed partial class ControllerGrain
{
    private const int RecentDecisionCount = 16;
    private readonly Queue<string> _recentDecisions = new();
    private Balancer? _balancer;
    private long _lastBalanceMs = long.MinValue / 2;

    private bool Balancing => _options.LeaderBalance || _options.ReplicaBalance || _options.AutoSplit || _options.AutoMerge;

    private async Task BalanceAsync()
    {
        long now = Environment.TickCount64;
        if (!Balancing || now - _lastBalanceMs < (long)_options.BalanceInterval.TotalMilliseconds)
        {
            return;
        }

        _lastBalanceMs = now;
        _balancer ??= new Balancer(_options.ToBalancerOptions());
        var snapshot = await ControllerSnapshot.ReadAsync(_group).ConfigureAwait(true);
        if (snapshot.Map is not { } map)
        {
            return;
        }

        var stores = snapshot.Stores.ToDictionary(s => s.Key, s => s.Value.Record);
        var samples = LeaderSamples(out var heard, out var slow);
        if (stores.Values.Any(s => s.State == StoreState.Up && !heard.Contains(s.Id)))
        {
            // A new controller activation has not heard every up store yet: its view of them is incomplete.
            return;
        }

        var decisions = _balancer.Plan(map.Shards, stores, snapshot.Operations, samples, now, _options.MaxOperations - snapshot.Operations.Count, slow);
        foreach (var decision in decisions)
        {
            try
            {
                if (decision.Kind == OperationKind.Split)
                {
                    var record = await _splits.StartAsync(decision.Shard, decision.SplitKey).ConfigureAwait(true);
                    if (_running.Add(record.Id))
                    {
                        _ = ResumeAsync(record);
                    }
                }
                else if (decision.Kind == OperationKind.Merge)
                {
                    // Run by the operation loop like one an operator starts (co-location, prepare, commit...).
                    await _operations.Merges.StartAsync(decision.Shard, decision.Target!.Value).ConfigureAwait(true);
                }
                else
                {
                    await _operations.StartAsync(decision.Kind, decision.Shard, decision.From, decision.To!.Value).ConfigureAwait(true);
                }

                Remember(decision.ToString());
                LogBalanceDecision(decision.ToString());
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or TimeoutException)
            {
                // The cluster changed since the rows were read (or the shard holds too few keys to split): decide again later.
                _balancer.Forget(decision.Shard);
                if (decision.Target is { } target)
                {
                    _balancer.Forget(target);
                }

                LogBalanceSkipped(decision.ToString(), e.Message);
            }
        }
    }

    /// <summary>
    /// Each shard's figures from its leader's latest heartbeat (the highest epoch when two claim to lead);
    /// <paramref name="heard"/>: stores with a fresh heartbeat; <paramref name="slow"/>: those of them reporting a slow disk.
    /// </summary>
    private Dictionary<ShardId, ShardSample> LeaderSamples(out HashSet<StoreId> heard, out HashSet<StoreId> slow)
    {
        var samples = new Dictionary<ShardId, ShardSample>();
        heard = new HashSet<StoreId>();
        slow = new HashSet<StoreId>();
        long freshMs = (long)_options.HeartbeatInterval.TotalMilliseconds * 3;
        var hot = new Dictionary<(long Shard, string Key), HotKeyRate>();
        foreach (var (heartbeat, ageMs) in _liveness.Heartbeats)
        {
            if (ageMs > freshMs)
            {
                continue;
            }

            heard.Add(heartbeat.Store);
            foreach (var key in heartbeat.HotKeys ?? [])
            {
                // A key led from two stores within one window (leadership moved) served requests on both: they add up.
                var id = (key.Shard, Convert.ToHexString(key.Key));
                hot[id] = new HotKeyRate(key.Key, (hot.TryGetValue(id, out var known) ? known.RequestsPerSecond : 0) + key.RequestsPerSecond);
            }

            if (heartbeat.DiskSlow)
            {
                slow.Add(heartbeat.Store);
            }

            foreach (var stats in heartbeat.Shards)
            {
                if (stats.IsLeader && (!samples.TryGetValue(stats.Shard, out var known) || stats.Epoch > known.Epoch))
                {
                    samples[stats.Shard] = new ShardSample(stats.Shard, stats.Epoch, stats.ApproximateBytes, stats.ReadsPerSecond + stats.WritesPerSecond, stats.LoadSplitKey);
                }
            }
        }

        foreach (var group in hot.GroupBy(h => h.Key.Shard))
        {
            var shard = new ShardId(group.Key);
            if (samples.TryGetValue(shard, out var sample))
            {
                samples[shard] = sample with { HotKeys = group.Select(h => h.Value).ToArray() };
            }
        }

        return samples;
    }

    private void Remember(string decision)
    {
        _recentDecisions.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss} {decision}");
        while (_recentDecisions.Count > RecentDecisionCount)
        {
            _recentDecisions.Dequeue();
        }
    }

    private BalancerView BalancerView() =>
        new(_options.LeaderBalance, _options.ReplicaBalance, _options.AutoSplit, _options.SplitBytes, _options.SplitRequestsPerSecond, _recentDecisions.ToArray());

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller balancer: {Decision}")]
    private partial void LogBalanceDecision(string decision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller balancer could not start '{Decision}': {Reason}")]
    private partial void LogBalanceSkipped(string decision, string reason);
}
