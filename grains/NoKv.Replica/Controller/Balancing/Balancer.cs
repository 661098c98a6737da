using System.Globalization;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Balancing;

/// <summary>
/// The controller's balance scheduler, free of Orleans and of clocks (the caller passes the time): from the committed
/// map, the stores' states, the operations in progress and the leaders' latest shard figures it decides which
/// leader transfers, replica moves and splits to start this round (docs/controller.md, "Balancing").
/// <list type="bullet">
/// <item><b>Leaders</b> are balanced by the <i>preferred</i> leader, the committed first voter each shard's replicas
/// hand leadership to, not by who leads this second: elections and a store's short absence do not move the
/// preference, so they cause no decision, and the replicas bring leadership back to it by themselves.</item>
/// <item><b>Replicas</b> are balanced by count per up store, so a new store receives replicas until it holds its share;
/// then by bytes and by load (the summed request rates of the shards a store holds replicas of).</item>
/// <item><b>Splits</b>: a shard at or above a size, or above a request rate for a whole window.</item>
/// </list>
/// Why it never flaps: a transfer or move goes only from a store to one holding more than <c>tolerance</c> (at least
/// 1) fewer, so each one lowers the sum over stores of the squared counts by at least 2; that sum cannot fall forever,
/// so the balancer stops, and once it stops no input but a change of the cluster makes it act again. In flight limits
/// and a per-shard cooldown bound the rate. Threading: one logical thread at a time.
/// </summary>
public sealed class Balancer
{
    private static readonly Comparer<byte[]> KeyOrder = Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y));
    private readonly Dictionary<ShardId, long> _touchedAtMs = new();
    private readonly Dictionary<ShardId, long> _hotSinceMs = new();

    // Since when each shard has been under the merge limits, at which epoch (a split or merge starts it over).
    private readonly Dictionary<ShardId, (long Epoch, long SinceMs)> _coldSince = new();

    // Up stores reporting a slow disk this round (see Plan).
    private IReadOnlySet<StoreId> _slow = new HashSet<StoreId>();

    public Balancer(BalancerOptions options)
    {
        options.Validate();
        Options = options;
    }

    public BalancerOptions Options { get; }

    /// <summary>The decisions to start now; every decision puts its shard in cooldown (call <see cref="Forget"/> if it could not start).</summary>
    /// <param name="slow">
    /// Up stores whose disk is slow now (their heartbeats say so): they count as stores, but receive no replica and no
    /// leader preference, and the shards they are preferred by get another voter preferred, as if they were not up,
    /// until they recover (the replicas already keep leadership off them; this keeps the committed preferences from
    /// pulling it back). Ignored when every up store is slow: there is nowhere better to go.
    /// </param>
    public List<BalanceDecision> Plan(
        IReadOnlyList<ShardDescriptor> shards,
        IReadOnlyDictionary<StoreId, StoreRecord> stores,
        IReadOnlyList<OperationRecord> inProgress,
        IReadOnlyDictionary<ShardId, ShardSample> samples,
        long nowMs,
        int budget,
        IReadOnlySet<StoreId>? slow = null)
    {
        var decisions = new List<BalanceDecision>();
        var busy = inProgress.Select(o => o.Shard).Concat(inProgress.Where(o => o.Kind == OperationKind.Merge).Select(Operations.MergeRunner.TargetOf)).ToHashSet();
        var up = stores.Where(s => s.Value.State == StoreState.Up).Select(s => s.Key).OrderBy(s => s.Value).ToList();
        _slow = slow is not null && up.Any(s => !slow.Contains(s)) ? slow : new HashSet<StoreId>();
        var leaderStores = up.Where(s => !_slow.Contains(s)).ToList();
        ForgetGone(shards, nowMs);
        if (up.Count == 0 || budget <= 0 || shards.Any(d => d.Peers.Any(p => !stores.ContainsKey(p.Store))))
        {
            // Nothing to do, or the store rows are not all there yet (seeding writes the map first): a store without a
            // row is unknown, not down, and deciding on it would move preferences away from healthy stores.
            return decisions;
        }

        bool Free(ShardId shard) => !busy.Contains(shard) && !Cooling(shard, nowMs);
        void Take(BalanceDecision decision)
        {
            decisions.Add(decision);
            busy.Add(decision.Shard);
            _touchedAtMs[decision.Shard] = nowMs;
        }

        if (Options.AutoSplit)
        {
            int slots = Options.MaxSplits - inProgress.Count(o => o.Kind == OperationKind.Split);
            foreach (var shard in shards)
            {
                if (slots <= 0 || decisions.Count >= budget)
                {
                    break;
                }

                if (SplitReason(shard, samples, nowMs, out var key) is { } reason && Free(shard.Id))
                {
                    Take(new BalanceDecision(OperationKind.Split, shard.Id, null, null, reason, SplitKey: key));
                    slots--;
                }
            }
        }

        // Repairing a down or draining store comes first: its replicas are counted nowhere useful meanwhile.
        bool repairing = stores.Any(s => s.Value.State is StoreState.Down or StoreState.Decommissioning && shards.Any(d => d.HasReplicaOn(s.Key)));
        TrackCold(shards, samples, nowMs);
        if (Options.AutoMerge && !repairing)
        {
            int slots = Options.MaxMerges - inProgress.Count(o => o.Kind == OperationKind.Merge);
            foreach (var (source, target, reason) in MergeCandidates(shards, samples, nowMs))
            {
                if (slots <= 0 || decisions.Count >= budget)
                {
                    break;
                }

                if (Free(source.Id) && Free(target.Id))
                {
                    Take(new BalanceDecision(OperationKind.Merge, source.Id, null, null, reason, target.Id));
                    busy.Add(target.Id);
                    _touchedAtMs[target.Id] = nowMs;
                    slots--;
                }
            }
        }

        if (Options.ReplicaBalance && !repairing)
        {
            int slots = Options.MaxReplicaMoves - inProgress.Count(o => o.Kind == OperationKind.MoveReplica);
            var sizes = Options.ReplicaSizeBalance ? Sizes(shards, samples) : null;
            var rates = Options.ReplicaLoadBalance ? Rates(shards, samples, Options.ReplicaLoadMinRequestsPerSecond) : null;
            int tolerance = Options.ReplicaTolerance + (sizes is null && rates is null ? 0 : Options.SizeCountSlack);
            while (slots > 0 && decisions.Count < budget
                && (NextMove(shards, up, inProgress, decisions, Free, tolerance)
                    ?? (sizes is null ? null : NextSizeMove(shards, up, inProgress, decisions, Free, sizes, tolerance, rates))
                    ?? (rates is null ? null : NextLoadMove(shards, up, inProgress, decisions, Free, rates, tolerance, sizes))) is { } move)
            {
                Take(move);
                slots--;
            }
        }

        if (Options.LeaderBalance)
        {
            int slots = Options.MaxLeaderTransfers - inProgress.Count(o => o.Kind == OperationKind.TransferLeader);
            var loads = Options.LeaderLoadBalance ? Loads(shards, samples) : null;
            int tolerance = Options.LeaderTolerance + (loads is null ? 0 : Options.LoadCountSlack);
            while (slots > 0 && decisions.Count < budget
                && (NextTransfer(shards, leaderStores, inProgress, decisions, Free, tolerance) ?? (loads is null ? null : NextLoadTransfer(shards, leaderStores, inProgress, decisions, Free, loads, tolerance))) is { } transfer)
            {
                Take(transfer);
                slots--;
            }
        }

        return decisions;
    }

    /// <summary>Takes a decision that could not start out of cooldown, so the next round may decide it again.</summary>
    public void Forget(ShardId shard) => _touchedAtMs.Remove(shard);

    /// <summary>Preferred leaders per up store, as the balancer counts them (for status output).</summary>
    public static Dictionary<StoreId, int> PreferredLeaders(IReadOnlyList<ShardDescriptor> shards, IEnumerable<StoreId> up)
    {
        var counts = up.ToDictionary(s => s, _ => 0);
        foreach (var shard in shards)
        {
            if (shard.Replicas.Length > 0 && counts.ContainsKey(shard.Replicas[0]))
            {
                counts[shard.Replicas[0]]++;
            }
        }

        return counts;
    }

    /// <summary>Notes which shards are under the merge limits now, and since when (at their current epoch).</summary>
    private void TrackCold(IReadOnlyList<ShardDescriptor> shards, IReadOnlyDictionary<ShardId, ShardSample> samples, long nowMs)
    {
        foreach (var shard in shards)
        {
            bool cold = samples.TryGetValue(shard.Id, out var sample) && sample.Epoch == shard.Epoch && sample.Bytes is { } bytes
                && bytes <= Options.MergeBytes && sample.RequestsPerSecond <= Options.MergeRequestsPerSecond;
            if (!cold)
            {
                _coldSince.Remove(shard.Id);
            }
            else if (!_coldSince.TryGetValue(shard.Id, out var known) || known.Epoch != shard.Epoch)
            {
                _coldSince[shard.Id] = (shard.Epoch, nowMs);
            }
        }
    }

    /// <summary>
    /// Adjacent pairs, both cold for the whole window, that together stay under the merge limits, as (source, target):
    /// the smaller one merges into the larger (its replicas are the ones moved if the two are not co-located).
    /// </summary>
    private List<(ShardDescriptor Source, ShardDescriptor Target, string Reason)> MergeCandidates(IReadOnlyList<ShardDescriptor> shards, IReadOnlyDictionary<ShardId, ShardSample> samples, long nowMs)
    {
        var candidates = new List<(ShardDescriptor, ShardDescriptor, string)>();
        var ordered = shards.Where(s => s.Id != SystemShards.Controller).OrderBy(s => s.Range.Start, KeyOrder).ToList();
        long window = (long)Options.MergeColdWindow.TotalMilliseconds;
        for (int i = 0; i + 1 < ordered.Count; i++)
        {
            var (left, right) = (ordered[i], ordered[i + 1]);
            if (left.Range.End.Length == 0 || !left.Range.End.AsSpan().SequenceEqual(right.Range.Start) || left.Peers.Length != right.Peers.Length
                || !_coldSince.TryGetValue(left.Id, out var l) || !_coldSince.TryGetValue(right.Id, out var r)
                || nowMs - l.SinceMs < window || nowMs - r.SinceMs < window)
            {
                continue;
            }

            var (a, b) = (samples[left.Id], samples[right.Id]);
            long bytes = a.Bytes!.Value + b.Bytes!.Value;
            double rate = a.RequestsPerSecond + b.RequestsPerSecond;
            if (bytes > Options.MergeBytes || rate > Options.MergeRequestsPerSecond)
            {
                continue;
            }

            bool leftSmaller = a.Bytes < b.Bytes || (a.Bytes == b.Bytes && left.Id.Value > right.Id.Value);
            string reason = string.Create(CultureInfo.InvariantCulture, $"together about {bytes} bytes and {rate:F0} requests/s for {Math.Min(nowMs - l.SinceMs, nowMs - r.SinceMs) / 1000} s, at or under {Options.MergeBytes} and {Options.MergeRequestsPerSecond:F0}");
            candidates.Add(leftSmaller ? (left, right, reason) : (right, left, reason));
            i++; // a shard takes part in one merge at a time
        }

        return candidates;
    }

    /// <param name="key">Where to split: the leader's load middle for a split by load (when it reported one inside the
    /// range), null for a split by size (the replica then cuts at the middle of the bytes).</param>
    private string? SplitReason(ShardDescriptor shard, IReadOnlyDictionary<ShardId, ShardSample> samples, long nowMs, out byte[]? key)
    {
        key = null;
        if (!samples.TryGetValue(shard.Id, out var sample) || sample.Epoch != shard.Epoch)
        {
            // Figures from before the shard's last split (or none yet) say nothing about it now.
            _hotSinceMs.Remove(shard.Id);
            return null;
        }

        if (sample.Bytes is { } bytes && bytes >= Options.SplitBytes)
        {
            return string.Create(CultureInfo.InvariantCulture, $"about {bytes} bytes, at or above {Options.SplitBytes}");
        }

        if (Options.SplitRequestsPerSecond <= 0 || sample.RequestsPerSecond < Options.SplitRequestsPerSecond)
        {
            _hotSinceMs.Remove(shard.Id);
            return null;
        }

        if (!_hotSinceMs.TryGetValue(shard.Id, out long since))
        {
            _hotSinceMs[shard.Id] = nowMs;
            since = nowMs;
        }

        if (nowMs - since < (long)Options.SplitLoadWindow.TotalMilliseconds)
        {
            return null;
        }

        if (sample.LoadSplitKey is { Length: 0 })
        {
            // The leader found its load on one key: a split cannot spread it, only add a hop for that key's clients.
            return null;
        }

        // At the key that halves the load when the leader sampled one inside the range (the range may have changed
        // since its heartbeat); otherwise at the middle by size, which halves the load of a shard hot throughout.
        bool atLoadMiddle = sample.LoadSplitKey is { } middle && middle.AsSpan().SequenceCompareTo(shard.Range.Start) > 0 && shard.Range.Contains(middle);
        key = atLoadMiddle ? sample.LoadSplitKey : HotKeyCut(shard, sample);
        string where = atLoadMiddle ? ", at the load's middle key" : key is not null ? ", between its hot keys (no load key inside the range)" : ", at the middle by size (no load key reported)";
        return string.Create(CultureInfo.InvariantCulture, $"{sample.RequestsPerSecond:F0} requests/s for {(nowMs - since) / 1000} s, above {Options.SplitRequestsPerSecond:F0}{where}");
    }

    /// <summary>
    /// Where to cut a hot shard whose leader reported no load key inside its committed range (a leader of an older
    /// build, or a key from before the range changed): between the shard's hot keys, at the key that best halves their
    /// requests, when those keys carry at least half of the shard's load (otherwise they do not say where its middle
    /// is) and the cut leaves at least a fifth of their requests on each side (the sampler's own rule: a load on one
    /// key is not divided by any cut). Null when they do not qualify; the split then cuts at the middle by size.
    /// </summary>
    private static byte[]? HotKeyCut(ShardDescriptor shard, ShardSample sample)
    {
        var keys = (sample.HotKeys ?? [])
            .Where(h => h.RequestsPerSecond > 0 && shard.Range.Contains(h.Key))
            .OrderBy(h => h.Key, KeyOrder)
            .ToList();
        double total = keys.Sum(h => h.RequestsPerSecond);
        if (keys.Count < 2 || total < sample.RequestsPerSecond / 2)
        {
            return null;
        }

        byte[]? best = null;
        double bestGap = double.MaxValue, left = 0;
        for (int i = 1; i < keys.Count; i++)
        {
            left += keys[i - 1].RequestsPerSecond;
            double right = total - left;
            // The cut key starts the right half; it lies above the range's start since an earlier key sorts below it.
            if (Math.Min(left, right) >= total / 5 && Math.Abs(left - right) < bestGap && keys[i].Key.AsSpan().SequenceCompareTo(keys[i - 1].Key) > 0)
            {
                bestGap = Math.Abs(left - right);
                best = keys[i].Key;
            }
        }

        return best;
    }

    /// <summary>
    /// The replica move that evens counts most: from the fullest up store to the emptiest one the shard is not on,
    /// among pairs more than the tolerance apart; a shard the source does not preferably lead goes first (moving it
    /// needs no leader transfer), then the lowest shard id.
    /// </summary>
    private BalanceDecision? NextMove(IReadOnlyList<ShardDescriptor> shards, List<StoreId> up, IReadOnlyList<OperationRecord> inProgress, List<BalanceDecision> planned, Func<ShardId, bool> free, int tolerance)
    {
        var counts = Counts(shards, up, inProgress, planned);
        foreach (var source in up.OrderByDescending(s => counts[s]).ThenBy(s => s.Value))
        {
            foreach (var target in up.OrderBy(s => counts[s]).ThenBy(s => s.Value))
            {
                if (_slow.Contains(target))
                {
                    continue;
                }

                if (counts[source] - counts[target] <= tolerance)
                {
                    break;
                }

                var candidate = shards
                    .Where(s => s.HasReplicaOn(source) && !s.HasReplicaOn(target) && free(s.Id))
                    .OrderBy(s => s.Replicas.Length > 0 && s.Replicas[0] == source ? 1 : 0)
                    .ThenBy(s => s.Id.Value)
                    .FirstOrDefault();
                if (candidate is not null)
                {
                    return new BalanceDecision(OperationKind.MoveReplica, candidate.Id, source, target, string.Create(CultureInfo.InvariantCulture, $"store {source} holds {counts[source]} replicas, store {target} {counts[target]}"));
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Every user shard's size by its leader's report at the shard's current epoch, or null while any is unknown:
    /// balancing bytes on a partial view would move shards toward stores whose data is simply not counted yet.
    /// </summary>
    private static Dictionary<ShardId, long>? Sizes(IReadOnlyList<ShardDescriptor> shards, IReadOnlyDictionary<ShardId, ShardSample> samples)
    {
        var sizes = new Dictionary<ShardId, long>();
        foreach (var shard in shards)
        {
            if (shard.Id == SystemShards.Controller)
            {
                continue;
            }

            if (!samples.TryGetValue(shard.Id, out var sample) || sample.Epoch != shard.Epoch || sample.Bytes is not { } bytes)
            {
                return null;
            }

            sizes[shard.Id] = bytes;
        }

        return sizes;
    }

    /// <summary>
    /// The replica move that evens bytes most, once counts are within the tolerance: from the up store holding the most
    /// bytes to the one holding the fewest (more than <see cref="BalancerOptions.ReplicaSizeRatio"/> times and
    /// <see cref="BalancerOptions.ReplicaSizeMinBytes"/> apart), a shard smaller than their difference (so the move
    /// narrows it) and nearest half of it, and only if counts stay within the tolerance afterwards.
    /// <para>Why it stops: such a move lowers the sum over stores of the squared bytes (a shard of s bytes from a
    /// store at a to one at b, with 0 &lt; s &lt; a - b, gives (a-s)² + (b+s)² &lt; a² + b²), and never widens counts past
    /// the tolerance the count moves act above, so count moves do not undo it. With sizes still, moves end.</para>
    /// </summary>
    /// <param name="rates">Shard request rates when replica load balancing acts: a size move must not create a load
    /// imbalance the load moves would then undo.</param>
    private BalanceDecision? NextSizeMove(IReadOnlyList<ShardDescriptor> shards, List<StoreId> up, IReadOnlyList<OperationRecord> inProgress, List<BalanceDecision> planned, Func<ShardId, bool> free, Dictionary<ShardId, long> sizes, int tolerance, Dictionary<ShardId, double>? rates)
    {
        var counts = Counts(shards, up, inProgress, planned);
        var bytes = Held(shards, up, inProgress, planned, id => sizes.GetValueOrDefault(id));
        var load = rates is null ? null : Held(shards, up, inProgress, planned, id => rates.GetValueOrDefault(id));
        bool loadEven = load is not null && !LoadUneven(load);

        foreach (var source in up.OrderByDescending(s => bytes[s]).ThenBy(s => s.Value))
        {
            foreach (var target in up.OrderBy(s => bytes[s]).ThenBy(s => s.Value))
            {
                if (_slow.Contains(target))
                {
                    continue;
                }

                long gap = bytes[source] - bytes[target];
                if (gap < Options.ReplicaSizeMinBytes || bytes[source] <= Options.ReplicaSizeRatio * bytes[target])
                {
                    break;
                }

                // Counts after the move must stay within the tolerance across every up store.
                if (!CountsHoldAfterOne(counts, source, target, tolerance))
                {
                    continue;
                }

                var candidate = shards
                    .Where(s => s.HasReplicaOn(source) && !s.HasReplicaOn(target) && free(s.Id) && sizes.TryGetValue(s.Id, out long size) && size > 0 && size < gap)
                    .Where(s => !loadEven || !LoadUneven(After(load!, source, target, rates!.GetValueOrDefault(s.Id))))
                    .OrderBy(s => Math.Abs((2 * sizes[s.Id]) - gap))
                    .ThenBy(s => s.Replicas.Length > 0 && s.Replicas[0] == source ? 1 : 0)
                    .ThenBy(s => s.Id.Value)
                    .FirstOrDefault();
                if (candidate is not null)
                {
                    return new BalanceDecision(OperationKind.MoveReplica, candidate.Id, source, target, string.Create(CultureInfo.InvariantCulture, $"store {source} holds about {bytes[source]} bytes in {counts[source]} replicas, store {target} {bytes[target]} in {counts[target]}; the shard has about {sizes[candidate.Id]}"));
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Every user shard's request rate by its leader's report at the shard's current epoch, or null while any is
    /// unknown (a partial view would move load toward stores whose shards are simply not counted yet) or when the
    /// whole cluster serves under <paramref name="minimum"/> (too little for any load decision).
    /// </summary>
    private static Dictionary<ShardId, double>? Rates(IReadOnlyList<ShardDescriptor> shards, IReadOnlyDictionary<ShardId, ShardSample> samples, double minimum)
    {
        var rates = new Dictionary<ShardId, double>();
        foreach (var shard in shards)
        {
            if (shard.Id == SystemShards.Controller)
            {
                continue;
            }

            if (!samples.TryGetValue(shard.Id, out var sample) || sample.Epoch != shard.Epoch)
            {
                return null;
            }

            rates[shard.Id] = sample.RequestsPerSecond;
        }

        return rates.Values.Sum() < minimum ? null : rates;
    }

    /// <summary>
    /// A per-shard figure (bytes, requests per second) summed per up store over the replicas it holds, with moves in
    /// flight or just planned counted as done: the target holds the replica soon, the source not.
    /// </summary>
    private static Dictionary<StoreId, T> Held<T>(IReadOnlyList<ShardDescriptor> shards, List<StoreId> up, IReadOnlyList<OperationRecord> inProgress, List<BalanceDecision> planned, Func<ShardId, T> figure)
        where T : System.Numerics.INumber<T>
    {
        var held = up.ToDictionary(s => s, _ => T.Zero);
        foreach (var shard in shards)
        {
            foreach (var peer in shard.Peers)
            {
                if (held.ContainsKey(peer.Store))
                {
                    held[peer.Store] += figure(shard.Id);
                }
            }
        }

        foreach (var (kind, shard, from, to) in inProgress.Select(o => (o.Kind, o.Shard, o.From, o.To)).Concat(planned.Select(d => (d.Kind, d.Shard, d.From, d.To))))
        {
            if (kind is OperationKind.MoveReplica or OperationKind.ReReplicate)
            {
                T value = figure(shard);
                if (from is { } f && held.ContainsKey(f))
                {
                    held[f] -= value;
                }

                if (to is { } t && held.ContainsKey(t))
                {
                    held[t] += value;
                }
            }
        }

        return held;
    }

    private static Dictionary<StoreId, T> After<T>(Dictionary<StoreId, T> held, StoreId source, StoreId target, T value)
        where T : System.Numerics.INumber<T>
    {
        var after = new Dictionary<StoreId, T>(held);
        after[source] -= value;
        after[target] += value;
        return after;
    }

    /// <summary>Whether the stores' replica loads are far enough apart for a load move (the ratio and the minimum gap between the busiest and the idlest).</summary>
    private bool LoadUneven(Dictionary<StoreId, double> load) =>
        load.Count > 1 && load.Values.Max() - load.Values.Min() >= Options.ReplicaLoadMinRequestsPerSecond && load.Values.Max() > Options.ReplicaLoadRatio * load.Values.Min();

    /// <summary>Whether the stores' bytes are far enough apart for a size move.</summary>
    private bool SizeUneven(Dictionary<StoreId, long> bytes) =>
        bytes.Count > 1 && bytes.Values.Max() - bytes.Values.Min() >= Options.ReplicaSizeMinBytes && bytes.Values.Max() > Options.ReplicaSizeRatio * bytes.Values.Min();

    /// <summary>
    /// The replica move that evens the stores' load most, once counts (and bytes) leave nothing to do: a store's load is
    /// the summed request rate of the shards it holds replicas of (every replica applies every write, and leadership,
    /// with the reads, can only go to a store holding one, so the holders of a hot shard are where its load can be). From
    /// the busiest up store to the idlest one without a replica of the shard (never a store with a slow disk), when the
    /// first carries more than <see cref="BalancerOptions.ReplicaLoadRatio"/> times the second and at least
    /// <see cref="BalancerOptions.ReplicaLoadMinRequestsPerSecond"/> more, a shard serving less than their difference
    /// and at least a quarter of it (a hot shard; shuffling cold ones around an indivisible hot one only costs copies),
    /// nearest half of it; only if counts stay within the tolerance and bytes do not become uneven afterwards. A store
    /// that is the source or target of a move in flight or planned this round takes part in no other: its figures
    /// are about to change, and one copy per store at a time is all a store should carry for balance.
    /// <para>Why it stops: a shard serving r moved from a store at a to one at b, 0 &lt; r &lt; a - b, lowers the sum
    /// over stores of the squared loads; the ratio, the minimum and the quarter rule are the hysteresis against rates
    /// that move all the time, and the shard cooldown bounds how often one shard moves.</para>
    /// </summary>
    private BalanceDecision? NextLoadMove(IReadOnlyList<ShardDescriptor> shards, List<StoreId> up, IReadOnlyList<OperationRecord> inProgress, List<BalanceDecision> planned, Func<ShardId, bool> free, Dictionary<ShardId, double> rates, int tolerance, Dictionary<ShardId, long>? sizes)
    {
        var counts = Counts(shards, up, inProgress, planned);
        var load = Held(shards, up, inProgress, planned, id => rates.GetValueOrDefault(id));
        var bytes = sizes is null ? null : Held(shards, up, inProgress, planned, id => sizes.GetValueOrDefault(id));
        bool bytesEven = bytes is not null && !SizeUneven(bytes);
        var moving = inProgress.Where(o => o.Kind is OperationKind.MoveReplica or OperationKind.ReReplicate).Select(o => (o.From, o.To))
            .Concat(planned.Where(d => d.Kind == OperationKind.MoveReplica).Select(d => (d.From, d.To)))
            .SelectMany(m => new[] { m.From, m.To })
            .OfType<StoreId>()
            .ToHashSet();
        foreach (var source in up.Where(s => !moving.Contains(s)).OrderByDescending(s => load[s]).ThenBy(s => s.Value))
        {
            foreach (var target in up.Where(s => !moving.Contains(s) && !_slow.Contains(s)).OrderBy(s => load[s]).ThenBy(s => s.Value))
            {
                double gap = load[source] - load[target];
                if (gap < Options.ReplicaLoadMinRequestsPerSecond || load[source] <= Options.ReplicaLoadRatio * load[target])
                {
                    break;
                }

                if (!CountsHoldAfterOne(counts, source, target, tolerance))
                {
                    continue;
                }

                var candidate = shards
                    .Where(s => s.Id != SystemShards.Controller && s.HasReplicaOn(source) && !s.HasReplicaOn(target) && free(s.Id) && rates.TryGetValue(s.Id, out double rate) && rate >= gap / 4 && rate < gap)
                    .Where(s => !bytesEven || !SizeUneven(After(bytes!, source, target, sizes!.GetValueOrDefault(s.Id))))
                    .OrderBy(s => Math.Abs((2 * rates[s.Id]) - gap))
                    .ThenBy(s => s.Replicas.Length > 0 && s.Replicas[0] == source ? 1 : 0)
                    .ThenBy(s => s.Id.Value)
                    .FirstOrDefault();
                if (candidate is not null)
                {
                    return new BalanceDecision(OperationKind.MoveReplica, candidate.Id, source, target, string.Create(CultureInfo.InvariantCulture, $"store {source} holds replicas serving about {load[source]:0} requests/s, store {target} {load[target]:0}; the shard serves about {rates[candidate.Id]:0}"));
                }
            }
        }

        return null;
    }

    /// <summary>Replicas per up store, with moves in flight or just planned counted as done.</summary>
    private static Dictionary<StoreId, int> Counts(IReadOnlyList<ShardDescriptor> shards, List<StoreId> up, IReadOnlyList<OperationRecord> inProgress, List<BalanceDecision> planned)
    {
        var counts = up.ToDictionary(s => s, _ => 0);
        foreach (var shard in shards)
        {
            foreach (var peer in shard.Peers)
            {
                if (counts.ContainsKey(peer.Store))
                {
                    counts[peer.Store]++;
                }
            }
        }

        // Moves in flight or just planned count as done: the target holds the replica soon, the source not.
        foreach (var (kind, from, to) in inProgress.Select(o => (o.Kind, o.From, o.To)).Concat(planned.Select(d => (d.Kind, d.From, d.To))))
        {
            if (kind is OperationKind.MoveReplica or OperationKind.ReReplicate)
            {
                Adjust(counts, from, -1);
                Adjust(counts, to, +1);
            }
        }

        return counts;
    }

    /// <summary>
    /// The preferred-leader change that evens counts most: a shard whose preferred store is not up goes to its least
    /// loaded up voter; otherwise from the store preferred by the most shards to the voter of one of them preferred by
    /// the fewest, if more than the tolerance apart.
    /// </summary>
    private BalanceDecision? NextTransfer(IReadOnlyList<ShardDescriptor> shards, List<StoreId> up, IReadOnlyList<OperationRecord> inProgress, List<BalanceDecision> planned, Func<ShardId, bool> free, int tolerance)
    {
        var preferred = Preferred(shards, inProgress, planned);
        var counts = up.ToDictionary(s => s, _ => 0);
        foreach (var store in preferred.Values)
        {
            Adjust(counts, store, +1);
        }

        StoreId? LeastLoadedVoter(ShardDescriptor shard, StoreId except) =>
            shard.Replicas.Where(s => s != except && counts.ContainsKey(s)).OrderBy(s => counts[s]).ThenBy(s => s.Value).Cast<StoreId?>().FirstOrDefault();

        foreach (var shard in shards)
        {
            if (preferred.TryGetValue(shard.Id, out var current) && !counts.ContainsKey(current) && free(shard.Id) && LeastLoadedVoter(shard, current) is { } target)
            {
                return new BalanceDecision(OperationKind.TransferLeader, shard.Id, current, target, _slow.Contains(current) ? $"preferred store {current} has a slow disk" : $"preferred store {current} is not up");
            }
        }

        foreach (var source in up.OrderByDescending(s => counts[s]).ThenBy(s => s.Value))
        {
            BalanceDecision? best = null;
            int bestCount = int.MaxValue;
            foreach (var shard in shards)
            {
                if (!preferred.TryGetValue(shard.Id, out var current) || current != source || !free(shard.Id) || LeastLoadedVoter(shard, source) is not { } target)
                {
                    continue;
                }

                if (counts[source] - counts[target] > tolerance && counts[target] < bestCount)
                {
                    bestCount = counts[target];
                    best = new BalanceDecision(OperationKind.TransferLeader, shard.Id, source, target, string.Create(CultureInfo.InvariantCulture, $"store {source} is preferred by {counts[source]} shards, store {target} by {counts[target]}"));
                }
            }

            if (best is not null)
            {
                return best;
            }
        }

        return null;
    }

    /// <summary>Each shard's preferred store (its first voter), with transfers in flight or just planned counted as done (the map may not mirror a committed preference yet).</summary>
    private static Dictionary<ShardId, StoreId> Preferred(IReadOnlyList<ShardDescriptor> shards, IReadOnlyList<OperationRecord> inProgress, List<BalanceDecision> planned)
    {
        var preferred = new Dictionary<ShardId, StoreId>();
        foreach (var shard in shards)
        {
            if (shard.Replicas.Length > 0)
            {
                preferred[shard.Id] = shard.Replicas[0];
            }
        }

        foreach (var (kind, shard, to) in inProgress.Select(o => (o.Kind, o.Shard, o.To)).Concat(planned.Select(d => (d.Kind, d.Shard, d.To))))
        {
            if (kind == OperationKind.TransferLeader && to is { } store && preferred.ContainsKey(shard))
            {
                preferred[shard] = store;
            }
        }

        return preferred;
    }

    /// <summary>
    /// Every user shard's request rate by its leader's report at the shard's current epoch, or null while any is
    /// unknown (as for sizes: a partial view would hand leaders to stores whose load is simply not counted yet), and
    /// null when the whole cluster serves too little for any load transfer (then counts keep their own tolerance).
    /// </summary>
    private Dictionary<ShardId, double>? Loads(IReadOnlyList<ShardDescriptor> shards, IReadOnlyDictionary<ShardId, ShardSample> samples)
    {
        var loads = new Dictionary<ShardId, double>();
        foreach (var shard in shards)
        {
            if (shard.Id == SystemShards.Controller)
            {
                continue;
            }

            if (!samples.TryGetValue(shard.Id, out var sample) || sample.Epoch != shard.Epoch)
            {
                return null;
            }

            loads[shard.Id] = sample.RequestsPerSecond;
        }

        return loads.Values.Sum() < Options.LeaderLoadMinRequestsPerSecond ? null : loads;
    }

    /// <summary>
    /// The preferred-leader change that evens load most, once preference counts are within the tolerance: from the up
    /// store whose preferred shards serve the most requests per second to a voter store serving the fewest (more than
    /// <see cref="BalancerOptions.LeaderLoadRatio"/> times and <see cref="BalancerOptions.LeaderLoadMinRequestsPerSecond"/>
    /// apart), a shard serving less than their difference and nearest half of it, and only if counts stay within the
    /// tolerance afterwards. A shard serving under a quarter of the difference is not worth a transfer (it would only
    /// shuffle cold shards around a hot one that cannot be divided).
    /// <para>Why it stops: as for size moves, each such transfer lowers the sum over stores of the squared load (a
    /// shard serving r from a store at a to one at b, 0 &lt; r &lt; a - b), and it never widens counts past the tolerance
    /// the count transfers act above. Loads change all the time, unlike sizes: the ratio and the minimum are the
    /// hysteresis, and the shard cooldown keeps a shard from changing hands more than once per cooldown.</para>
    /// </summary>
    private BalanceDecision? NextLoadTransfer(IReadOnlyList<ShardDescriptor> shards, List<StoreId> up, IReadOnlyList<OperationRecord> inProgress, List<BalanceDecision> planned, Func<ShardId, bool> free, Dictionary<ShardId, double> loads, int tolerance)
    {
        var preferred = Preferred(shards, inProgress, planned);
        var counts = up.ToDictionary(s => s, _ => 0);
        var load = up.ToDictionary(s => s, _ => 0.0);
        foreach (var (shard, store) in preferred)
        {
            if (counts.ContainsKey(store))
            {
                counts[store]++;
                load[store] += loads.GetValueOrDefault(shard);
            }
        }

        foreach (var source in up.OrderByDescending(s => load[s]).ThenBy(s => s.Value))
        {
            foreach (var target in up.OrderBy(s => load[s]).ThenBy(s => s.Value))
            {
                double gap = load[source] - load[target];
                if (gap < Options.LeaderLoadMinRequestsPerSecond || load[source] <= Options.LeaderLoadRatio * load[target])
                {
                    break;
                }

                if (!CountsHoldAfterOne(counts, source, target, tolerance))
                {
                    continue;
                }

                var candidate = shards
                    .Where(s => preferred.GetValueOrDefault(s.Id) == source && s.Replicas.Contains(target) && free(s.Id) && loads.TryGetValue(s.Id, out double rate) && rate >= gap / 4 && rate < gap)
                    .OrderBy(s => Math.Abs((2 * loads[s.Id]) - gap))
                    .ThenBy(s => s.Id.Value)
                    .FirstOrDefault();
                if (candidate is not null)
                {
                    return new BalanceDecision(OperationKind.TransferLeader, candidate.Id, source, target, string.Create(CultureInfo.InvariantCulture, $"store {source} leads shards serving about {load[source]:0} requests/s, store {target} {load[target]:0}; the shard serves about {loads[candidate.Id]:0}"));
                }
            }
        }

        return null;
    }

    /// <summary>Whether counts stay within <paramref name="tolerance"/> across every up store once one moves from <paramref name="source"/> to <paramref name="target"/>.</summary>
    private static bool CountsHoldAfterOne(Dictionary<StoreId, int> counts, StoreId source, StoreId target, int tolerance)
    {
        counts[source]--;
        counts[target]++;
        bool hold = counts.Values.Max() - counts.Values.Min() <= tolerance;
        counts[source]++;
        counts[target]--;
        return hold;
    }

    private static void Adjust(Dictionary<StoreId, int> counts, StoreId? store, int delta)
    {
        if (store is { } s && counts.ContainsKey(s))
        {
            counts[s] += delta;
        }
    }

    private bool Cooling(ShardId shard, long nowMs) =>
        _touchedAtMs.TryGetValue(shard, out long at) && nowMs - at < (long)Options.ShardCooldown.TotalMilliseconds;

    private void ForgetGone(IReadOnlyList<ShardDescriptor> shards, long nowMs)
    {
        if (_touchedAtMs.Count == 0 && _hotSinceMs.Count == 0)
        {
            return;
        }

        var present = shards.Select(s => s.Id).ToHashSet();
        foreach (var shard in _touchedAtMs.Keys.Where(s => !present.Contains(s) || !Cooling(s, nowMs)).ToList())
        {
            _touchedAtMs.Remove(shard);
        }

        foreach (var shard in _hotSinceMs.Keys.Where(s => !present.Contains(s)).ToList())
        {
            _hotSinceMs.Remove(shard);
        }
    }
}
