using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Abstractions.Telemetry;
using NoKv.Grains.Placement;
using NoKv.Silo.Http.Api;
using Orleans.Runtime;

namespace NoKv.Silo.Http;

/// <summary>
/// Builds the HTTP API's view of the whole cluster from any one silo: the shard map, and every active silo's
/// <see cref="IStoreStatusService"/> report, asked in parallel with a deadline so one stuck store cannot stall the page.
/// Answers are cached for <see cref="MaxAge"/> (a dashboard polls once a second; several tabs share one fan-out),
/// and shard rates come from the difference with the previous build. Thread-safe.
/// </summary>
public sealed class ClusterOverview
{
    /// <summary>How long one build is served to every caller.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);
    private const int MaxEvents = 100;
    private const int MaxHotKeys = 10;

    private readonly IGrainFactory _grains;
    private readonly IClusterMembershipService _membership;
    private readonly StoreDirectory _stores;
    private readonly ILocalSiloDetails _local;
    private readonly string _clusterId;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ApiOverview? _cached;
    private long _cachedAt;
    private Dictionary<(long Shard, int Store), (long Writes, long Reads)> _previousLoad = new();
    private long _previousLoadAt;

    public ClusterOverview(IGrainFactory grains, IClusterMembershipService membership, StoreDirectory stores, ILocalSiloDetails local, string clusterId)
    {
        _grains = grains;
        _membership = membership;
        _stores = stores;
        _local = local;
        _clusterId = clusterId;
    }

    public async Task<ApiOverview> GetAsync(CancellationToken cancellationToken)
    {
        if (Fresh() is { } cached)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh() is { } built)
            {
                return built;
            }

            var overview = await BuildAsync().ConfigureAwait(false);
            _cached = overview;
            _cachedAt = Environment.TickCount64;
            return overview;
        }
        finally
        {
            _gate.Release();
        }
    }

    private ApiOverview? Fresh() => _cached is { } c && Environment.TickCount64 - _cachedAt < MaxAge.TotalMilliseconds ? c : null;

    private async Task<ApiOverview> BuildAsync()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var mapTask = GetMapAsync();
        var viewTask = _grains.GetGrain<IControllerGrain>(ShardMapGrainKeys.Cluster).GetViewAsync().WaitAsync(CallTimeout);
        var silos = new List<(SiloAddress Silo, StoreId? Store, Task<StoreReport> Report)>();
        foreach (var member in _membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active)
            {
                var report = _grains.GetGrain<IStoreStatusService>(StoreStatusServiceIds.At(member.SiloAddress)).GetReportAsync(0).WaitAsync(CallTimeout);
                silos.Add((member.SiloAddress, _stores.StoreOf(member.SiloAddress), report));
            }
        }

        var map = await mapTask.ConfigureAwait(false);
        var reports = new Dictionary<int, StoreReport>();
        var failures = new Dictionary<int, (string Silo, string Error)>();
        foreach (var (silo, store, pending) in silos)
        {
            try
            {
                var report = await pending.ConfigureAwait(false);
                reports[report.Store.Value] = report;
            }
            catch (Exception e)
            {
                if (store is { } id)
                {
                    failures[id.Value] = (silo.ToString(), e is TimeoutException ? $"no answer within {CallTimeout.TotalSeconds:F0} s" : $"{e.GetType().Name}: {e.Message}");
                }
            }
        }

        var load = new Dictionary<(long Shard, int Store), (long Writes, long Reads)>();
        foreach (var report in reports.Values)
        {
            foreach (var replica in report.Replicas)
            {
                load[(replica.Shard, report.Store.Value)] = (replica.Writes, replica.Reads);
            }
        }

        double elapsed = (now - _previousLoadAt) / 1000.0;
        bool ratesValid = _previousLoadAt != 0 && elapsed is > 0.2 and < 30;
        var groups = Shards(map, reports, load, ratesValid ? elapsed : 0);
        var shards = groups.Where(g => g.Id != SystemShards.Controller.Value).ToList();
        var controllerGroup = groups.Find(g => g.Id == SystemShards.Controller.Value);
        var (operations, operationsError) = await OperationsAsync(viewTask).ConfigureAwait(false);
        var controller = controllerGroup is null ? null
            : new ApiController(controllerGroup.Leader, controllerGroup.Term, controllerGroup.CommitIndex, controllerGroup.Replicas, operations, HotKeys(reports.Values), operationsError);
        if (_previousLoadAt == 0 || elapsed >= 1)
        {
            _previousLoad = load;
            _previousLoadAt = now;
        }

        var stores = Stores(map, reports, failures, now);
        var series = MergeSeries(reports.Values);
        var events = new List<ApiEvent>();
        foreach (var report in reports.Values)
        {
            foreach (var e in report.Events)
            {
                events.Add(new ApiEvent(e.UnixMs, report.Store.Value, e.Shard, e.Kind, e.Detail));
            }
        }

        events.Sort(static (a, b) => b.UnixMs.CompareTo(a.UnixMs));
        if (events.Count > MaxEvents)
        {
            events.RemoveRange(MaxEvents, events.Count - MaxEvents);
        }

        var last = series.Count > 0 ? series[^1] : null;
        long requests = 0;
        foreach (var report in reports.Values)
        {
            foreach (var total in report.RequestTotals)
            {
                requests += total;
            }
        }

        long dataBytes = 0;
        foreach (var shard in shards)
        {
            dataBytes += shard.SizeBytes;
        }

        var totals = new ApiTotals(
            stores.Count,
            stores.Count(s => s.State == "up"),
            shards.Count,
            shards.Count(s => s.Leader is not null),
            last?.WritesPerSecond ?? 0,
            last?.GetsPerSecond ?? 0,
            last?.ScansPerSecond ?? 0,
            last?.ErrorsPerSecond ?? 0,
            last?.WriteP99Ms ?? 0,
            last?.GetP99Ms ?? 0,
            dataBytes,
            requests);
        int servedBy = _stores.StoreOf(_local.SiloAddress)?.Value ?? 0;
        return new ApiOverview(_clusterId, now, servedBy, totals, stores, shards, series, events, controller);
    }

    private async Task<ShardMap?> GetMapAsync()
    {
        try
        {
            return await _grains.GetGrain<IShardMapGrain>(ShardMapGrainKeys.Cluster).GetShardMapAsync().WaitAsync(CallTimeout).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The page still shows what the stores report; the map is only needed for shards nobody reports.
            return null;
        }
    }

    private List<ApiShard> Shards(ShardMap? map, Dictionary<int, StoreReport> reports, Dictionary<(long Shard, int Store), (long Writes, long Reads)> load, double elapsed)
    {
        // Every shard the map names, plus any a store reports that the map does not (a system group, a new split).
        var descriptors = new SortedDictionary<long, ShardDescriptor?>();
        if (map is not null)
        {
            foreach (var shard in map.Shards)
            {
                descriptors[shard.Id.Value] = shard;
            }
        }

        var replicas = new Dictionary<long, List<(int Store, HostedReplicaReport Report)>>();
        foreach (var report in reports.Values)
        {
            foreach (var replica in report.Replicas)
            {
                if (!replicas.TryGetValue(replica.Shard, out var list))
                {
                    replicas[replica.Shard] = list = new();
                }

                list.Add((report.Store.Value, replica));
                if (!descriptors.TryGetValue(replica.Shard, out var known) || known is null)
                {
                    descriptors[replica.Shard] = replica.Status?.Descriptor;
                }
            }
        }

        var result = new List<ApiShard>(descriptors.Count);
        foreach (var (id, descriptor) in descriptors)
        {
            var members = replicas.TryGetValue(id, out var list) ? list : new();
            members.Sort(static (a, b) => a.Store.CompareTo(b.Store));
            ReplicaStatus? leader = null;
            long term = 0, commit = 0, applied = 0, size = 0, keys = 0;
            double writes = 0, reads = 0;
            var apiReplicas = new List<ApiReplica>(members.Count);
            var reported = new HashSet<int>();
            foreach (var (store, replica) in members)
            {
                reported.Add(store);
                var status = replica.Status;
                if (status is not null)
                {
                    term = Math.Max(term, status.Term);
                    commit = Math.Max(commit, status.CommitIndex);
                    applied = Math.Max(applied, status.AppliedIndex);
                    size = Math.Max(size, replica.ApproximateBytes);
                    keys = Math.Max(keys, replica.ApproximateKeys);
                    if (status.Role == ReplicaRole.Leader && (leader is null || status.Term > leader.Term))
                    {
                        leader = status;
                    }
                }

                if (elapsed > 0 && _previousLoad.TryGetValue((id, store), out var before) && load.TryGetValue((id, store), out var after))
                {
                    writes += Math.Max(0, after.Writes - before.Writes) / elapsed;
                    reads += Math.Max(0, after.Reads - before.Reads) / elapsed;
                }

                apiReplicas.Add(new ApiReplica(
                    store,
                    status?.PeerId ?? 0,
                    status is null ? "unknown" : RoleName(status.Role),
                    status?.Term ?? 0,
                    status?.CommitIndex ?? 0,
                    status?.AppliedIndex ?? 0,
                    status?.LastIndex ?? 0,
                    status?.FirstIndex ?? 0,
                    replica.ApproximateBytes,
                    replica.Error ?? status?.ApplyHalt));
            }

            if (descriptor is not null)
            {
                // Replicas whose store did not report (down or unreachable) still appear, so a missing one is visible.
                foreach (var peer in descriptor.Peers)
                {
                    if (!reported.Contains(peer.Store.Value))
                    {
                        apiReplicas.Add(new ApiReplica(peer.Store.Value, peer.PeerId, "unknown", 0, 0, 0, 0, 0, 0, "store did not report"));
                    }
                }
            }

            if (leader is not null)
            {
                commit = leader.CommitIndex;
                applied = leader.AppliedIndex;
                var leaderReplica = members.Find(m => m.Report.Status == leader);
                size = leaderReplica.Report?.ApproximateBytes ?? size;
                keys = leaderReplica.Report?.ApproximateKeys ?? keys;
            }

            result.Add(new ApiShard(
                id,
                descriptor is null ? "" : Key(descriptor.Range.Start),
                descriptor is null ? "" : Key(descriptor.Range.End),
                descriptor?.Epoch ?? 0,
                leader?.Replica.Store.Value,
                term,
                commit,
                applied,
                size,
                keys,
                Math.Round(writes, 1),
                Math.Round(reads, 1),
                apiReplicas));
        }

        return result;
    }

    private List<ApiStore> Stores(ShardMap? map, Dictionary<int, StoreReport> reports, Dictionary<int, (string Silo, string Error)> failures, long now)
    {
        var ids = new SortedSet<int>(reports.Keys);
        ids.UnionWith(failures.Keys);
        var mapped = new Dictionary<int, StoreDescriptor>();
        if (map is not null)
        {
            foreach (var store in map.Stores)
            {
                ids.Add(store.Id.Value);
                mapped[store.Id.Value] = store;
            }
        }

        var result = new List<ApiStore>(ids.Count);
        foreach (int id in ids)
        {
            if (reports.TryGetValue(id, out var report))
            {
                int leaders = 0;
                foreach (var replica in report.Replicas)
                {
                    if (replica.Status?.Role == ReplicaRole.Leader)
                    {
                        leaders++;
                    }
                }

                var series = report.Samples.Select(Sample).ToList();
                var last = series.Count > 0 ? series[^1] : null;
                long errors = report.ErrorTotals.Sum();
                result.Add(new ApiStore(
                    id,
                    "up",
                    report.Silo,
                    null,
                    Math.Round((now - report.StartedUnixMs) / 1000.0, 1),
                    report.WorkingSetBytes,
                    report.Replicas.Length,
                    leaders,
                    last?.WritesPerSecond ?? 0,
                    last?.GetsPerSecond ?? 0,
                    last?.WriteP99Ms ?? 0,
                    At(report.RequestTotals, 0),
                    At(report.RequestTotals, 1),
                    At(report.RequestTotals, 2),
                    errors,
                    Engine(report.Engine),
                    series));
            }
            else
            {
                bool unreachable = failures.TryGetValue(id, out var failure);
                result.Add(new ApiStore(
                    id,
                    unreachable ? "unreachable" : "down",
                    unreachable ? failure.Silo : mapped.GetValueOrDefault(id)?.SiloAddress,
                    unreachable ? failure.Error : "no live silo hosts this store",
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, []));
            }
        }

        return result;
    }

    /// <summary>The cluster's series: stores' samples grouped by second; rates add up, p50 is rate-weighted, p99 is the worst store's.</summary>
    private static List<ApiSample> MergeSeries(IEnumerable<StoreReport> reports)
    {
        var bySecond = new SortedDictionary<long, List<LoadSample>>();
        foreach (var report in reports)
        {
            foreach (var sample in report.Samples)
            {
                long second = sample.UnixMs / 1000;
                if (!bySecond.TryGetValue(second, out var list))
                {
                    bySecond[second] = list = new();
                }

                list.Add(sample);
            }
        }

        var merged = new List<ApiSample>(bySecond.Count);
        foreach (var (second, samples) in bySecond)
        {
            double writes = 0, gets = 0, scans = 0, errors = 0, writeP50 = 0, getP50 = 0, writeP99 = 0, getP99 = 0;
            foreach (var s in samples)
            {
                writes += s.WritesPerSecond;
                gets += s.GetsPerSecond;
                scans += s.ScansPerSecond;
                errors += s.ErrorsPerSecond;
                writeP50 += s.WriteP50Ms * s.WritesPerSecond;
                getP50 += s.GetP50Ms * s.GetsPerSecond;
                writeP99 = Math.Max(writeP99, s.WriteP99Ms);
                getP99 = Math.Max(getP99, s.GetP99Ms);
            }

            merged.Add(new ApiSample(
                second * 1000,
                Math.Round(writes, 1),
                Math.Round(gets, 1),
                Math.Round(scans, 1),
                Math.Round(errors, 1),
                Math.Round(writes > 0 ? writeP50 / writes : 0, 3),
                Math.Round(writeP99, 3),
                Math.Round(gets > 0 ? getP50 / gets : 0, 3),
                Math.Round(getP99, 3)));
        }

        // The newest second may still be missing some stores' samples; it is shown once they all are in.
        if (merged.Count > 1)
        {
            merged.RemoveAt(merged.Count - 1);
        }

        return merged;
    }

    private static ApiSample Sample(LoadSample s) => new(
        s.UnixMs,
        Math.Round(s.WritesPerSecond, 1),
        Math.Round(s.GetsPerSecond, 1),
        Math.Round(s.ScansPerSecond, 1),
        Math.Round(s.ErrorsPerSecond, 1),
        Math.Round(s.WriteP50Ms, 3),
        Math.Round(s.WriteP99Ms, 3),
        Math.Round(s.GetP50Ms, 3),
        Math.Round(s.GetP99Ms, 3));

    private static ApiEngine Engine(EngineReport e) => new(
        e.LiveTableBytes,
        e.MemtableBytes,
        e.LevelFiles,
        e.LevelBytes,
        e.UserBytesWritten,
        e.DiskBytesWritten,
        Math.Round(e.WriteAmplification, 2),
        e.WalSyncs,
        e.Flushes,
        e.Compactions,
        Math.Round(e.StallSeconds, 3),
        Math.Round(e.BlockCacheHitRate, 4));

    private static long At(long[] values, int i) => i < values.Length ? values[i] : 0;

    private static string RoleName(ReplicaRole role) => role switch
    {
        ReplicaRole.Leader => "leader",
        ReplicaRole.Candidate => "candidate",
        ReplicaRole.PreCandidate => "pre-candidate",
        ReplicaRole.Learner => "learner",
        _ => "follower",
    };

    /// <summary>A range bound for display: printable ASCII as is, other bytes as \xNN; "" is the open end.</summary>
    /// <summary>The controller's operations in progress, oldest first, or the reason they are unknown.</summary>
    private static async Task<(IReadOnlyList<ApiOperation> Operations, string? Error)> OperationsAsync(Task<ControllerView> view)
    {
        try
        {
            var operations = (await view.ConfigureAwait(false)).Operations ?? [];
            return (operations
                .OrderBy(static o => o.CreatedUnixMs)
                .Select(static o => new ApiOperation(o.Id, OperationKindName(o.Kind), o.Shard.Value, o.Step, o.From?.Value, o.To?.Value, o.CreatedUnixMs, o.StepSinceUnixMs, o.Waiting))
                .ToList(), null);
        }
        catch (Exception e)
        {
            return ([], e is TimeoutException ? $"the controller did not answer within {CallTimeout.TotalSeconds:F0} s" : $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static string OperationKindName(OperationKind kind) => kind switch
    {
        OperationKind.ReReplicate => "re_replicate",
        OperationKind.MoveReplica => "move_replica",
        OperationKind.Split => "split",
        OperationKind.Merge => "merge",
        OperationKind.TransferLeader => "transfer_leader",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The cluster's hottest keys: each store reports what its leaders served; a key led on one store at a time adds up across a leader change.</summary>
    private static List<ApiHotKey> HotKeys(IEnumerable<StoreReport> reports)
    {
        var rates = new Dictionary<(long Shard, string Key), double>();
        foreach (var report in reports)
        {
            foreach (var hot in report.HotKeys ?? [])
            {
                var id = (hot.Shard, Key(hot.Key));
                rates[id] = rates.GetValueOrDefault(id) + hot.RequestsPerSecond;
            }
        }

        return rates
            .OrderByDescending(static e => e.Value)
            .Take(MaxHotKeys)
            .Select(static e => new ApiHotKey(e.Key.Key, e.Key.Shard, Math.Round(e.Value, 1)))
            .ToList();
    }

    private static string Key(byte[] key)
    {
        var text = new System.Text.StringBuilder(key.Length);
        foreach (byte b in key)
        {
            if (b is >= 0x20 and < 0x7f && b != (byte)'\\')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }
}
