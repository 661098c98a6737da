using System.Text;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Operations;
using NoKv.Replica.Layout;
using NoKv.Grains.Layout;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// A deterministic simulation of one shard's replica group: production <see cref="Core.ReplicaCore"/>s on real
/// engines over in-memory file systems, a seeded network that drops, duplicates, delays and partitions, seeded
/// crashes that lose unsynced data, and clients whose writes are checked against a model of the key space.
/// </summary>
/// <remarks>
/// Every event touches one store and runs to quiescence (its pump finished, every continuation it posted run)
/// before the next, on one thread under <see cref="SimSynchronizationContext"/>; so a seed replays the same
/// history. Client model: each client owns its keys and moves each one through 1, 2, 3, ... with compare-and-swap
/// under an exactly-once session, so a lost acknowledged write, a write applied twice, a stale read or replicas that
/// diverge each break a check.
/// </remarks>
internal sealed class ReplicaSimulation
{
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(5);
    private readonly PriorityQueue<SimEvent, (long, long)> _events = new();
    private readonly SimSynchronizationContext _context = new();
    private readonly Dictionary<StoreId, SimNode> _nodes = new();
    private readonly List<string> _violations = new();
    private readonly ShardDescriptor _shard;
    private readonly ReplicaOptions _replicaOptions;
    private readonly SimClient[] _clients;
    private readonly SimSnapshotReader[] _readers;
    private readonly List<(string Key, long Ts, string? Value)> _servedSnapshots = new();
    private readonly SimTimestampCallers _timestamps;
    private readonly SimBank _bank;
    private readonly SimTxnClient[] _txnClients;
    private readonly SimSplitter _splitter;
    private readonly SimMerger _merger;
    private readonly SimController _controller;
    private readonly SimControllerRepair _repair;
    private readonly SimControllerGrowth _growth;
    private readonly HashSet<StoreId> _deadForGood = new();
    private bool _topologyFinished = true;
    private readonly HashSet<string> _mergeWaits = new();

    // The shard map as a controller would hold it: ranges sorted, tiling the key space; changed only by a split the
    // splitter saw committed.
    private readonly List<ShardDescriptor> _map = new();
    private long _sequence;
    private bool _faultsOn = true;

    public ReplicaSimulation(int seed, SimOptions options)
    {
        Seed = seed;
        Options = options;
        Random = new RecordingRandom(seed, () => Now);
        Network = new SimNetwork(this);
        var peers = new PeerDescriptor[options.Replicas > 0 ? options.Replicas : options.Nodes];
        var group = options.ControllerGroup ? SystemShards.Controller : new ShardId(1);
        for (int i = 0; i < options.Nodes; i++)
        {
            var store = new StoreId(i + 1);
            if (i < peers.Length)
            {
                peers[i] = new PeerDescriptor(ClusterLayout.BootstrapPeerId(group, i), store, PeerRole.Voter);
            }

            _nodes[store] = new SimNode(this, store);
        }

        _shard = new ShardDescriptor(group, KeyRange.All, 1, 1, peers);
        _replicaOptions = new ReplicaOptions
        {
            TickInterval = TimeSpan.FromMilliseconds(100),
            ElectionTicks = 10,
            HeartbeatTicks = 2,
            SnapshotEntries = options.SnapshotEntries,
            RequestTimeout = TimeSpan.FromSeconds(3),
            SessionTtl = TimeSpan.FromMinutes(10),
            HibernateAfterTicks = options.HibernateAfterTicks,
        };
        _clients = new SimClient[options.Clients];
        for (int i = 0; i < _clients.Length; i++)
        {
            _clients[i] = new SimClient(this, i);
        }

        _readers = new SimSnapshotReader[options.SnapshotReaders];
        for (int i = 0; i < _readers.Length; i++)
        {
            _readers[i] = new SimSnapshotReader(this, i, _servedSnapshots);
        }

        _timestamps = new SimTimestampCallers(this);
        _bank = new SimBank(this, options.Clients);
        _txnClients = new SimTxnClient[options.TxnClients];
        for (int i = 0; i < _txnClients.Length; i++)
        {
            _txnClients[i] = new SimTxnClient(this, _bank, i);
        }

        _map.Add(_shard);
        _splitter = new SimSplitter(this);
        _merger = new SimMerger(this);
        _controller = new SimController(this);
        _repair = new SimControllerRepair(this);
        _growth = new SimControllerGrowth(this);
    }

    /// <summary>The controller repairing its own group after stores die for good (<see cref="SimOptions.ControllerLosses"/>).</summary>
    public SimControllerRepair Repair => _repair;

    /// <summary>Crashes <paramref name="store"/> for good: no fault restarts it, nor the quiet period.</summary>
    public void KillForGood(StoreId store)
    {
        Trace($"fault: store {store} killed for good");
        _deadForGood.Add(store);
        Crashes++;
        _nodes[store].Crash();
    }

    public bool IsDeadForGood(StoreId store) => _deadForGood.Contains(store);

    /// <summary>Brings a store killed for good back (as it was on disk), from a scheduled event like a fault's restart.</summary>
    public void Revive(StoreId store)
    {
        Schedule(0, () =>
        {
            Trace($"fault: store {store} returns");
            _deadForGood.Remove(store);
            if (!_nodes[store].IsUp)
            {
                RunToCompletion(_nodes[store].StartAsync(_shard, _replicaOptions));
            }
        });
    }

    public bool IsUp(StoreId store) => _nodes[store].IsUp;

    /// <summary>What each up store holds on disk, as its heartbeat would report it.</summary>
    public Dictionary<StoreId, HeldReplica[]> HeldReplicas() => _nodes.Values.Where(n => n.IsUp).ToDictionary(n => n.Store, n => n.HeldReplicas());

    public HeldReplica[] HeldReplicas(StoreId store) => _nodes[store].IsUp ? _nodes[store].HeldReplicas() : [];

    /// <summary>The controller sizing its own group (<see cref="SimOptions.ControllerGrowth"/>).</summary>
    public SimControllerGrowth Growth => _growth;

    public SimController Controller => _controller;

    public SimMerger Merger => _merger;

    /// <summary>The value the owner of <paramref name="key"/> last had acknowledged (or read back) for it.</summary>
    public long AcknowledgedValue(string key) => _clients.First(c => c.Keys.Contains(key)).Model(key);

    /// <summary>Every key a client owns.</summary>
    public IEnumerable<string> ClientKeys => _clients.SelectMany(c => c.Keys);

    /// <summary>The committed shard map (the bootstrap shard, then the halves of every split).</summary>
    public IReadOnlyList<ShardDescriptor> Map => _map;

    public SimSplitter Splitter => _splitter;

    /// <summary>How often a request was answered WrongShard (a client routed with a map the split had overtaken).</summary>
    public long WrongShardAnswers { get; set; }

    /// <summary>The shard of the map that holds <paramref name="key"/>.</summary>
    public ShardDescriptor Route(byte[] key)
    {
        foreach (var shard in _map)
        {
            if (shard.Range.Contains(key))
            {
                return shard;
            }
        }

        throw new InvalidOperationException($"the map does not cover key {KeyFormatter.Format(key)}");
    }

    /// <summary>Records a committed split in the map: <paramref name="left"/> replaces its shard, <paramref name="right"/> follows it.</summary>
    public void CommitSplit(ShardDescriptor left, ShardDescriptor right)
    {
        Trace($"split: {left} and {right}");
        int at = _map.FindIndex(s => s.Id == left.Id);
        _map[at] = left;
        _map.Insert(at + 1, right);
    }

    /// <summary>Records a committed merge in the map: <paramref name="source"/> leaves it, <paramref name="merged"/> replaces its target.</summary>
    public void CommitMerge(ShardDescriptor source, ShardDescriptor merged)
    {
        Trace($"merged: {merged}");
        _map.RemoveAll(s => s.Id == source.Id);
        int at = _map.FindIndex(s => s.Id == merged.Id);
        _map[at] = merged;
    }

    /// <summary>Replaces the map with one the controller's rows committed (a replica move changed a shard's replicas).</summary>
    public void ReplaceMap(IReadOnlyList<ShardDescriptor> shards)
    {
        foreach (var shard in shards)
        {
            if (_map.FirstOrDefault(s => s.Id == shard.Id) is not { } old || old.ToString() != shard.ToString())
            {
                Trace($"map: {shard}");
            }
        }

        _map.Clear();
        _map.AddRange(shards);
    }

    public SimTimestampCallers Timestamps => _timestamps;

    /// <summary>The bank the transaction clients use (<see cref="SimOptions.TxnClients"/>).</summary>
    public SimBank Bank => _bank;

    /// <summary>Snapshot reads served to the snapshot readers, and re-reads of served snapshots (during and after the faults).</summary>
    public long SnapshotReads => _readers.Sum(r => r.Reads);

    public long SnapshotRereads => _readers.Sum(r => r.Rereads);

    public int Seed { get; }

    public SimOptions Options { get; }

    public RecordingRandom Random { get; }

    /// <summary>From now on, writes down every random draw, event and resumed continuation (<see cref="RecordingRandom.Draws"/>).</summary>
    public void RecordSteps()
    {
        Random.Recording = true;
        _context.Observer = Random.Note;
    }

    public SimNetwork Network { get; }

    public long Now { get; private set; }

    public IEnumerable<StoreId> Stores => _nodes.Keys;

    public IReadOnlyList<string> Violations => _violations;

    public ShardDescriptor Shard => _shard;

    public long CompletedOperations { get; set; }

    public int Crashes { get; private set; }

    public int Isolations { get; private set; }

    /// <summary>Replica ticks that found their group hibernating (a measure of how much of the run groups slept).</summary>
    public long Hibernations { get; private set; }

    /// <summary>Faults (crash or isolation) that hit the leader of a hibernating group; each must be followed by an election elsewhere.</summary>
    public int HibernatedLeaderFaults { get; private set; }

    public int Pauses { get; private set; }

    public SimNode Node(StoreId store) => _nodes[store];

    public int NextSeed() => Random.Next();

    public void Schedule(long delay, Action action) => _events.Enqueue(new SimEvent(Now + delay, _sequence, action), (Now + delay, _sequence++));

    public void Violation(string what) => _violations.Add($"t={Now}ms: {what}");

    /// <summary>Topology changes as they happen, printed with the violations of a failing seed.</summary>
    public List<string> TraceLines { get; } = new();

    public void Trace(string what) => TraceLines.Add($"t={Now}ms: {what}");

    /// <summary>NOKV_REPLICA_SIM_TRACE=1: the cores' log lines and every delivered or dropped Raft message go to the trace too.</summary>
    public bool TraceReplicas { get; } = Environment.GetEnvironmentVariable("NOKV_REPLICA_SIM_TRACE") == "1";

    public void ReportFailure(StoreId store, int generation, Exception e) =>
        Violation($"store {store} (generation {generation}) failed: {e.GetType().Name}: {e.Message}");

    /// <summary>The largest timestamp the simulated oracle handed out.</summary>
    public long LastOracleTimestamp { get; private set; }

    /// <summary>Oracle calls that failed (an isolated caller, a lost answer).</summary>
    public long OracleFailures { get; private set; }

    /// <summary>
    /// The cluster's timestamp oracle as a replica or a client reaches it: after a network delay, <paramref name="count"/>
    /// consecutive timestamps above every one handed out before; returns the first. Unlike the real oracle it never
    /// jumps ahead with a wall clock, so timestamps issued close together differ by little (the real one behaves so
    /// while it runs ahead of the clock after a leader change): a stamp that ran past what the oracle issued shows up
    /// as a real-time violation. Fails now and then, and always for an isolated caller.
    /// </summary>
    public async Task<long> OracleTimestampsAsync(StoreId? caller, int count)
    {
        await Delay(1 + Random.Next(Options.MaxDelayMs));
        if (OracleDown && caller is null)
        {
            // A client's call waits out the outage and is among the first answered when the oracle is back, before the
            // replicas' next attempts reserve blocks: its timestamps are as close above everything issued before the
            // outage as can be, where a stamp that ran ahead without an anchor shows.
            while (OracleDown)
            {
                await Delay(10);
            }
        }
        else if (OracleDown)
        {
            // A controller group without a quorum: the front-end's call runs into its attempt timeout.
            OracleFailures++;
            await Delay(900);
            throw new TimeoutException("the simulated oracle is down");
        }

        if ((caller is { } store && Network.IsIsolated(store)) || (_faultsOn && Random.NextDouble() < Options.DropRate))
        {
            OracleFailures++;
            await Delay(100);
            throw new TimeoutException("the simulated oracle did not answer");
        }

        long first = Math.Max(LastOracleTimestamp + 1, 1_700_000_000_000L << 18);
        LastOracleTimestamp = first + count - 1;
        return first;
    }

    /// <summary>True while the simulated controller group is unavailable (<see cref="SimOptions.OracleOutages"/>).</summary>
    public bool OracleDown { get; private set; }

    /// <summary>Virtual milliseconds the oracle was down.</summary>
    public long OracleDownMs { get; private set; }

    /// <summary>Client compare-and-swaps acknowledged while the oracle was down.</summary>
    public long WritesWhileOracleDown { get; set; }

    /// <summary>Plain writes replicas acknowledged without an oracle block, and anchors they proposed (all stores, all restarts).</summary>
    public long UnanchoredWrites => _nodes.Values.Sum(n => n.UnanchoredWrites);

    public long UnprimedWrites => _nodes.Values.Sum(n => n.UnprimedWrites);

    public long AnchorProposals => _nodes.Values.Sum(n => n.AnchorProposals);

    public long SnapshotRefusals => _readers.Sum(r => r.Refused);

    private void ScheduleOracleOutage()
    {
        Schedule(1_500 + Random.Next(2_500), () =>
        {
            if (!_faultsOn)
            {
                return;
            }

            long length = 3_000 + Random.Next(5_000);
            OracleDown = true;
            OracleDownMs += length;
            Trace($"oracle down for {length} ms");
            Schedule(length, () =>
            {
                OracleDown = false;
                Trace("oracle up");
                ScheduleOracleOutage();
            });
        });
    }

    /// <summary>A virtual-time delay for simulated clients.</summary>
    public Task Delay(long ms)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Schedule(ms, () => done.SetResult());
        return done.Task;
    }

    /// <summary>
    /// Whichever of two tasks completes first, as <see cref="Task.WhenAny(Task, Task)"/> but resumed on the simulation's
    /// thread: WhenAny's own completion runs on the thread pool when the task that completes it runs its continuations
    /// asynchronously (as <see cref="Delay"/>'s does), and its caller's continuation then arrived from another thread,
    /// sooner or later than work queued meanwhile; a seed did not replay the same history.
    /// </summary>
    public async Task<Task> FirstOfAsync(Task first, Task second)
    {
        var winner = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = SignalWhenDoneAsync(first, winner);
        _ = SignalWhenDoneAsync(second, winner);
        return await winner.Task;
    }

    private static async Task SignalWhenDoneAsync(Task task, TaskCompletionSource<Task> winner)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
            // The winner is the task, failed or not; its caller awaits it and sees the failure.
        }

        winner.TrySetResult(task);
    }

    /// <summary>Runs the whole scenario on the calling thread and returns a one-line summary.</summary>
    public string Run()
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_context);
        try
        {
            foreach (var node in _nodes.Values)
            {
                RunToCompletion(node.StartAsync(_shard, _replicaOptions));
            }

            foreach (var node in _nodes.Values)
            {
                ScheduleTicks(node);
            }

            ScheduleFault();
            if (Options.OracleOutages)
            {
                ScheduleOracleOutage();
            }

            foreach (var client in _clients)
            {
                _ = client.RunAsync(Options.DurationMs);
            }

            foreach (var reader in _readers)
            {
                _ = reader.RunAsync(Options.DurationMs);
            }

            foreach (var txnClient in _txnClients)
            {
                _ = txnClient.RunAsync(Options.DurationMs);
            }

            _timestamps.Start(Options.DurationMs);
            if (Options.ControllerLosses > 0)
            {
                _ = _repair.RunAsync(Options.ControllerLosses);
            }

            if (Options.ControllerGrowth)
            {
                _ = _growth.RunAsync();
            }

            if (Options.Splits > 0 || Options.UsesController)
            {
                _ = ChangeTopologyAsync();
            }

            RunUntil(Options.DurationMs);

            // Quiet period: heal everything, restart every store, let the group settle and the clients finish.
            _faultsOn = false;
            OracleDown = false;
            Network.HealAll();
            Network.Faulty = false;
            foreach (var node in _nodes.Values)
            {
                node.Resume();
                if (!node.IsUp && !_deadForGood.Contains(node.Store))
                {
                    RunToCompletion(node.StartAsync(_shard, _replicaOptions));
                }
            }

            RunUntil(Options.DurationMs + 20_000);
            if (Options.ControllerLosses > 0)
            {
                RunUntil(Now + 120_000, () => _repair.Finished);
                if (!_repair.Finished)
                {
                    Violation($"the controller's repair of its group did not finish (stores killed: {string.Join(", ", _repair.Killed)})");
                }
            }

            if (Options.ControllerGrowth)
            {
                RunUntil(Now + 400_000, () => _growth.Finished);
                if (!_growth.Finished)
                {
                    Violation($"the controller's sizing of its group did not finish ({_growth.PhasesDone} of 3 phases done)");
                }
            }

            // A move started late in the faulty period may need longer than the quiet period (its steps wait on round
            // trips to the controller's rows); its own budget flags one that hangs.
            RunUntil(Now + 60_000, () => _controller.Finished);
            foreach (var client in _clients)
            {
                if (!client.Finished)
                {
                    Violation($"client {client.Id} did not finish its last operation after the cluster healed");
                }
            }

            foreach (var txnClient in _txnClients.Where(c => !c.Finished))
            {
                Violation($"transaction client {txnClient.Id} did not finish its last transaction after the cluster healed");
            }

            foreach (var reader in _readers.Where(r => !r.Finished))
            {
                Violation($"a snapshot reader did not finish its last read after the cluster healed: it waits on {reader.Waiting}");
            }

            if (!_splitter.Finished || !_topologyFinished || !_controller.Finished || _controller.Rows.InProgress > 0)
            {
                Violation("the splitter or merger did not finish its last operation after the cluster healed");
            }

            if (_timestamps.Unfinished > 0)
            {
                Violation($"{_timestamps.Unfinished} timestamp callers did not finish after the cluster healed");
            }

            _timestamps.CollectStats();
            var finalCheck = CheckFinalStateAsync();
            RunUntil(Now + (_readers.Length == 0 && _txnClients.Length == 0 ? 15_000 : 60_000), () => finalCheck.IsCompleted);
            if (!finalCheck.IsCompleted)
            {
                Violation("final reads did not complete after the cluster healed");
            }

            // The final reads wake hibernating groups, and a leader that wakes may append (a GC round it owed): give the
            // followers the moment they need to apply it before comparing applied indexes (seed 1500 of the split
            // scenario compared them 75 ms after such an entry; one follower had not applied it yet).
            RunUntil(Now + 5_000, ReplicasCaughtUp);
            CheckReplicasConverged();
            string bank = _txnClients.Length == 0 ? "" : $", {_bank.Summary()}";
            string timestamps = Options.TimestampCallers == 0 ? "" : $", {_timestamps.Issued} timestamp batches in {_timestamps.Rounds}+ rounds ({_timestamps.Replacements} oracle replacements)";
            string snapshots = _readers.Length == 0 ? "" : $", {_readers.Sum(r => r.Reads)} snapshot reads, {_readers.Sum(r => r.Rereads)} re-read, {_nodes.Values.Sum(n => n.OracleCalls)} replica oracle calls, {OracleFailures} oracle failures";
            string outages = !Options.OracleOutages ? "" : $", oracle down {OracleDownMs} ms: {WritesWhileOracleDown} writes acknowledged meanwhile, {UnanchoredWrites} unanchored writes ({UnprimedWrites} by leaders without a block), {AnchorProposals} anchors, {SnapshotRefusals} snapshot reads refused";
            string splits = Options.Splits == 0 ? "" : $", {_map.Count - 1 + _merger.Merges + _controller.Merged} splits, {_merger.Merges} merges, {_merger.Rollbacks} rolled back, {_mergeWaits.Count} commits waited for their source ({WrongShardAnswers} WrongShard answers)";
            string repairs = Options.ControllerLosses == 0 ? "" : $", stores {string.Join(" and ", _repair.Killed)} killed for good: controller group repaired {_repair.Repaired} times ({_repair.Replacements} controller replacements, {_repair.LoopErrors} loop errors, {_repair.Admin.Unanswered} replica calls unanswered)";
            string growth = !Options.ControllerGrowth ? "" : $", controller group grown through {_growth.GrowthsSeen} growths, store {_growth.Killed} killed holding {_growth.KilledHolding} and returned, {_growth.OrphansDestroyed} controller orphans destroyed, {_growth.PhasesDone} of 3 phases done ({_growth.Replacements} controller replacements, {_growth.LoopErrors} loop errors, {_growth.Admin.Unanswered} replica calls unanswered)";
            string moves = !Options.UsesController ? "" : $", {_controller.SplitsStarted} controller splits started, {_controller.Split} split; {_controller.MovesStarted} moves started ({_controller.ReReplications} re-replications): {_controller.Moved} moved, {_controller.MovesRolledBack} rolled back; {_controller.MergesStarted} merges started, {_controller.Merged} merged; {_controller.ControllerCrashes} controller crashes, {_controller.Admin.Unanswered} replica calls unanswered, {OrphansDestroyed} orphans destroyed";
            return $"seed {Seed}{bank}{timestamps}{snapshots}{outages}{splits}{moves}{repairs}{growth}: {CompletedOperations} operations, {Crashes} crashes, {Isolations} isolations, {Pauses} pauses, {Network.Sent} batches sent, {Network.Dropped} dropped, {Hibernations} hibernating ticks, {HibernatedLeaderFaults} hibernated leaders failed, {_violations.Count} violations";
        }
        finally
        {
            foreach (var node in _nodes.Values)
            {
                node.Crash();
            }

            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>The splits, then the merges, one operation at a time like the controller's one-per-shard rule.</summary>
    private async Task ChangeTopologyAsync()
    {
        _topologyFinished = false;
        await _splitter.RunAsync(Options.DurationMs);
        if (Options.Merges > 0)
        {
            await _merger.RunAsync(Options.Merges, Options.DurationMs);
        }

        if (Options.UsesController)
        {
            await _controller.RunAsync(Options.Moves, Options.ControllerMerges, Options.ControllerSplits, Options.DurationMs);
        }

        _topologyFinished = true;
    }

    private void ScheduleTicks(SimNode node, int tick = 0)
    {
        Schedule((long)_replicaOptions.TickInterval.TotalMilliseconds, () =>
        {
            if (node.IsUp && !node.IsPaused && tick % _replicaOptions.HeartbeatTicks == 0)
            {
                foreach (var other in _nodes.Keys)
                {
                    if (other != node.Store)
                    {
                        Network.Beat(node.Store, other);
                    }
                }
            }

            // A paused store's timer does not fire: its ticks are lost, not queued.
            foreach (var core in node.IsPaused ? [] : node.Cores.ToArray())
            {
                if (core.MergeWait is not null)
                {
                    _mergeWaits.Add($"{core.Name}@{core.AppliedIndex}");
                }

                if (core.IsHibernating)
                {
                    Hibernations++;
                }

                _ = core.TickAsync();
            }

            ScheduleTicks(node, tick + 1);
        });
    }

    /// <summary>
    /// One fault at a time: a crash (restarted later), an isolation (healed later) or a pause (resumed later), never
    /// overlapping, so a quorum can always form.
    /// </summary>
    private void ScheduleFault()
    {
        long wait = Options.MeanFaultIntervalMs / 2 + Random.Next(Options.MeanFaultIntervalMs);
        Schedule(wait, () =>
        {
            if (!_faultsOn)
            {
                return;
            }

            var victim = new StoreId(1 + Random.Next(Options.Nodes));
            if (_deadForGood.Contains(victim))
            {
                ScheduleFault();
                return;
            }

            long outage = 500 + Random.Next(4_000);
            int kind = Random.Next(Options.Pauses ? 3 : 2);
            if (Options.AimAtHibernatingLeaders && kind != 2 && Random.Next(2) == 0
                && _nodes.Values.Where(n => n.IsUp && n.Cores.Any(c => c.IsLeader && c.IsHibernating)).Select(n => n.Store).ToArray() is { Length: > 0 } sleepers)
            {
                victim = sleepers[Random.Next(sleepers.Length)];
            }

            // Only a fault that outlasts the check tests it: the quiet period heals everything at the end of the run, and a
            // leader back before the deadline rightly keeps leading (seed 1169 of the split scenario was cut off 456 ms
            // before the end).
            if (kind != 2 && Now + ElectionDeadlineMs + 1_000 <= Options.DurationMs
                && _nodes[victim].Cores.Where(c => c.IsLeader && c.IsHibernating).Select(c => (c.Descriptor.Id, c.Term)).ToArray() is { Length: > 0 } sleeping)
            {
                // A hibernating group loses its leader: the others must notice the silence and elect, with nothing but
                // the store-level traffic to tell them. Long enough an outage that only an election can explain a leader.
                HibernatedLeaderFaults++;
                outage = Math.Max(outage, ElectionDeadlineMs + 1_000);
                Schedule(ElectionDeadlineMs, () => CheckElectedWithout(victim, sleeping));
            }

            if (kind == 2)
            {
                // Half the pauses stop the first group's leader, the case its leases exist for.
                if (Random.Next(2) == 0 && _nodes.Values.FirstOrDefault(n => n.Core?.IsLeader == true) is { } leader)
                {
                    victim = leader.Store;
                }

                Pauses++;
                Trace($"fault: store {victim} paused for {outage} ms");
                _nodes[victim].Pause();
                Schedule(outage, () =>
                {
                    _nodes[victim].Resume();
                    if (Random.Next(2) == 0)
                    {
                        ScheduleFault();
                        return;
                    }

                    // Resumed behind a partition that clients can still cross: a leader stopped past its election
                    // timeout wakes up believing it leads, with a Raft clock that lost the pause. Only its lease,
                    // kept on the wall clock, stops it serving what a newer leader may contradict.
                    Isolations++;
                    Network.Isolate(victim);
                    Schedule(500 + Random.Next(2_000), () =>
                    {
                        Network.HealAll();
                        ScheduleFault();
                    });
                });
            }
            else if (kind == 0)
            {
                Crashes++;
                Trace($"fault: store {victim} crashed for {outage} ms");
                _nodes[victim].Crash();
                Schedule(outage, () =>
                {
                    // The quiet period may have restarted it already.
                    if (!_nodes[victim].IsUp && !_deadForGood.Contains(victim))
                    {
                        RunToCompletion(_nodes[victim].StartAsync(_shard, _replicaOptions));
                    }

                    ScheduleFault();
                });
            }
            else
            {
                Isolations++;
                Trace($"fault: store {victim} cut off for {outage} ms");
                Network.Isolate(victim);
                Schedule(outage, () =>
                {
                    Network.HealAll();
                    ScheduleFault();
                });
            }
        });
    }

    /// <summary>How long a hibernating group may take to elect after its leader's store dies or is cut off: the silence
    /// threshold (an election timeout), the random campaign delay (half of one) and an election with faults (two more).</summary>
    private long ElectionDeadlineMs => 4 * _replicaOptions.ElectionTicks * (long)_replicaOptions.TickInterval.TotalMilliseconds;

    /// <summary>
    /// Each group must have a leader on another store at a higher term by the deadline. A group whose surviving
    /// candidates split their votes (two time out in the same tick: about one round in ten, so twice in a row about one
    /// failure in a hundred; seed 1038 of the merge scenario did) has still shown it is electing: its term rose past
    /// the first campaign's. Such a group gets one more election timeout per split round, up to three, and must have a
    /// leader by then. A group whose term did not move is not electing at all, which is what this check is for.
    /// </summary>
    private void CheckElectedWithout(StoreId victim, (ShardId Shard, ulong Term)[] groups, int extraRounds = 0)
    {
        foreach (var (shard, term) in groups)
        {
            var others = _nodes.Values.Where(n => n.Store != victim && n.CoreOf(shard) is not null).Select(n => n.CoreOf(shard)!).ToList();
            bool elected = others.Any(core => core.IsLeader && core.Term > term);

            // No replica left on the other stores: the group elected and was then merged away (its replicas close when
            // the merge commits, before the map drops it; seed 1229 of the merge scenario) or moved off them.
            if (elected || others.Count == 0 || !_map.Any(s => s.Id == shard))
            {
                continue;
            }

            ulong highest = others.Count == 0 ? term : others.Max(core => core.Term);
            if (highest > term + 1 + (ulong)extraRounds && extraRounds < 3)
            {
                Schedule(ElectionDeadlineMs / 4, () => CheckElectedWithout(victim, [(shard, term)], extraRounds + 1));
                continue;
            }

            var states = others.Select(core => $"{core.Name}: term {core.Term}, {(core.IsHibernating ? "hibernating" : "awake")}");
            Violation($"shard {shard} hibernated with its leader on store {victim} (term {term}); {ElectionDeadlineMs + (extraRounds * ElectionDeadlineMs / 4)} ms after that store failed no other store leads it ({string.Join("; ", states)})");
        }
    }

    private void RunUntil(long time, Func<bool>? done = null)
    {
        while (_events.TryPeek(out var next, out _) && next.Time <= time && done?.Invoke() != true)
        {
            _events.Dequeue();
            Now = next.Time;
            if (Random.Recording)
            {
                Random.Note($"event {next.Sequence} {next.Action.Method.Name}");
            }

            next.Action();
            Quiesce();
        }

        if (done?.Invoke() != true && Now < time)
        {
            Now = time;
        }
    }

    /// <summary>Runs posted continuations until no store's pump is in flight and no logical work is queued.</summary>
    private void Quiesce()
    {
        if (!_context.RunUntilIdle(Pumping, static () => false, StallLimit))
        {
            var stuck = _nodes.Values.SelectMany(n => n.Cores.Where(c => c.IsPumping).Select(c => $"{c.Name} (applied {c.AppliedIndex}, last {c.LastIndex})"));
            throw new TimeoutException($"seed {Seed}: a replica pump made no progress for {StallLimit.TotalSeconds} s at t={Now}ms: {string.Join(", ", stuck)}; {_context.LogicalPending} logical items queued: {_context.DescribeLogical()}");
        }
    }

    private int Pumping()
    {
        int pumping = 0;
        foreach (var node in _nodes.Values)
        {
            pumping += node.ClosedPumping();
            foreach (var core in node.Cores)
            {
                if (core.IsPumping)
                {
                    pumping++;
                }
            }
        }

        return pumping;
    }

    private void RunToCompletion(Task task)
    {
        if (!_context.RunUntilIdle(Pumping, () => !task.IsCompleted, StallLimit))
        {
            throw new TimeoutException($"seed {Seed}: start-up made no progress at t={Now}ms");
        }

        task.GetAwaiter().GetResult();
    }

    private async Task CheckFinalStateAsync()
    {
        if (Options.UsesController)
        {
            await CollectOrphansAsync();
        }

        if (Options.TimestampCallers > 0)
        {
            await _timestamps.CheckFinalAsync();
        }

        if (_txnClients.Length > 0)
        {
            await _bank.CheckFinalAsync(_txnClients[0]);
        }

        if (_readers.Length > 0)
        {
            // Served snapshots once more (a sample of about 200), now that nothing is in flight any more.
            int step = Math.Max(1, _servedSnapshots.Count / 200);
            for (int i = 0; i < _servedSnapshots.Count; i += step)
            {
                var (key, ts, value) = _servedSnapshots[i];
                await _readers[0].CheckAgainAsync(key, ts, value, Now + 10_000);
            }
        }

        foreach (var client in _clients)
        {
            foreach (var key in client.Keys)
            {
                var read = await client.ReadAsync(key, Now + 10_000);
                if (read is not { } value)
                {
                    Violation($"final read of {key} failed");
                    continue;
                }

                client.CheckFinal(key, value);
            }
        }
    }

    /// <summary>
    /// After the quiet period: every store runs exactly the replicas the map names on it, each with the map's
    /// descriptor, every group applied to the same index on each of its stores, the replicas of each shard hold the
    /// same data, and no store holds data outside the shards it runs (the key space model: no key lost, duplicated,
    /// left without a shard or left behind by a destroyed replica).
    /// </summary>
    /// <summary>Whether the replicas of every shard of the map on up stores have applied the same index.</summary>
    private bool ReplicasCaughtUp() =>
        _map.All(shard => _nodes.Values.Where(n => n.IsUp && shard.HasReplicaOn(n.Store)).Select(n => n.CoreOf(shard.Id)?.AppliedIndex).Distinct().Count() <= 1);

    private void CheckReplicasConverged()
    {
        foreach (var node in _nodes.Values)
        {
            if (!node.IsUp && !_deadForGood.Contains(node.Store))
            {
                Violation($"store {node.Store} is down at the end");
            }
        }

        var up = _nodes.Values.Where(n => n.IsUp).ToArray();
        foreach (var shard in _map)
        {
            ulong? applied = null;
            StoreId referenceStore = default;
            SortedDictionary<string, string>? reference = null;
            foreach (var node in up.Where(n => shard.HasReplicaOn(n.Store)))
            {
                if (node.CoreOf(shard.Id) is not { } core)
                {
                    Violation($"store {node.Store} holds no replica of shard {shard.Id}");
                    continue;
                }

                if (core.ApplyHaltReason is { } halt)
                {
                    Violation($"{core.Name} stopped applying: {halt}");
                }

                if (core.Descriptor.ToString() != shard.ToString())
                {
                    Violation($"{core.Name} holds {core.Descriptor}; the map says {shard}");
                }

                var data = node.ReadData(KeySpace.DataPrefixOf(shard.Id), shard.Range.Start, shard.Range.End);
                if (applied is null)
                {
                    applied = core.AppliedIndex;
                    referenceStore = node.Store;
                    reference = data;
                    continue;
                }

                if (core.AppliedIndex != applied)
                {
                    Violation($"shard {shard.Id}: store {node.Store} applied {core.AppliedIndex}, store {referenceStore} applied {applied} after the quiet period");
                }

                if (!data.SequenceEqual(reference!))
                {
                    var differing = data.Keys.Union(reference!.Keys).First(k => data.GetValueOrDefault(k) != reference.GetValueOrDefault(k));
                    Violation($"shard {shard.Id}: stores {node.Store} and {referenceStore} hold different data, first at row {differing}: {data.GetValueOrDefault(differing) ?? "(none)"} vs {reference.GetValueOrDefault(differing) ?? "(none)"}; map: {string.Join("; ", _map)}");
                }
            }
        }

        foreach (var node in up)
        {
            foreach (var core in node.Cores)
            {
                if (_map.FirstOrDefault(s => s.Id == core.Descriptor.Id) is not { } shard || shard.Peer(core.PeerId) is null)
                {
                    Violation($"store {node.Store} runs {core.Name} (peer {core.PeerId}), which the map does not name");
                }
            }

            // Rows of ranges the store no longer serves: a destroyed replica's data left behind.
            byte prefix = KeySpace.DataPrefixOf(_shard.Id);
            int held = _map.Where(s => s.HasReplicaOn(node.Store)).Sum(s => node.ReadData(prefix, s.Range.Start, s.Range.End).Count);
            int all = node.ReadAllData(prefix).Count;
            if (all != held)
            {
                Violation($"store {node.Store} holds {all} data rows, of which only {held} lie in the shards it runs; map: {string.Join("; ", _map)}");
            }
        }
    }

    /// <summary>
    /// Orphan cleanup as the controller runs it once stores report what they hold: a store that was down while its
    /// replica moved away, or missed the move's last step, still holds the removed peer. Retried until every one found
    /// is destroyed (the quiet period has no faults but lost answers are still possible before it).
    /// </summary>
    private async Task CollectOrphansAsync()
    {
        var stores = _nodes.Keys.ToDictionary(s => s, s => new StoreRecord(s, StoreState.Up, 0, 0, 0, $"sim-store-{s}"));
        for (int round = 0; round < 20; round++)
        {
            var held = _nodes.Values.Where(n => n.IsUp).ToDictionary(n => n.Store, n => n.HeldReplicas());
            var controllerMap = new ControllerMap(1, 1_000_000, 1UL << 41, 1, _map.ToArray());
            var orphans = OrphanCollector.Find(controllerMap, stores, [], held, 64);
            if (orphans.Count == 0)
            {
                return;
            }

            foreach (var orphan in orphans)
            {
                try
                {
                    var result = await _controller.Admin.DestroyOrphanAsync(orphan, CancellationToken.None);
                    Trace($"{orphan}: {result.Outcome} {result.Detail}");
                    OrphansDestroyed += result.Outcome == ReplicaAdminOutcome.Done ? 1 : 0;
                }
                catch (TimeoutException)
                {
                    // Tried again next round.
                }
            }
        }

        Violation("orphans were still found after 20 rounds of cleanup");
    }

    /// <summary>Removed replicas that orphan cleanup destroyed after the quiet period.</summary>
    public int OrphansDestroyed { get; private set; }

    /// <summary>Sends a write to a store's replica as a client's call would, or answers as a failed connection.</summary>
    public async Task<WriteResponse> CallWriteAsync(StoreId store, WriteRequest request)
    {
        await _nodes[store].WhenRunningAsync();
        if (_nodes[store].CoreOf(request.Shard) is not { } core)
        {
            return new WriteResponse { Code = NoKvErrorCode.StoreUnavailable, CurrentEpoch = 0 };
        }

        return await core.WriteAsync(request);
    }

    public async Task<NoKv.Abstractions.Transactions.TxnResponse> CallTxnAsync(StoreId store, NoKv.Abstractions.Transactions.TxnRequest request)
    {
        if (_nodes[store].CoreOf(request.Shard) is not { } core)
        {
            return new NoKv.Abstractions.Transactions.TxnResponse { Code = NoKvErrorCode.StoreUnavailable, CurrentEpoch = 0 };
        }

        return await core.TxnAsync(request);
    }

    public async Task<TimestampResponse> CallTimestampsAsync(StoreId store, int count)
    {
        await _nodes[store].WhenRunningAsync();
        if (_nodes[store].CoreOf(SystemShards.Controller) is not { } core)
        {
            return new TimestampResponse { Code = NoKvErrorCode.StoreUnavailable, CurrentEpoch = 0 };
        }

        return await core.TimestampsAsync(count);
    }

    public async Task<ReadResponse> CallReadAsync(StoreId store, ReadRequest request)
    {
        await _nodes[store].WhenRunningAsync();
        if (_nodes[store].CoreOf(request.Shard) is not { } core)
        {
            return new ReadResponse { Code = NoKvErrorCode.StoreUnavailable, CurrentEpoch = 0 };
        }

        return await core.GetAsync(request);
    }

    public async Task<ScanResponse> CallScanAsync(StoreId store, ScanRequest request)
    {
        await _nodes[store].WhenRunningAsync();
        if (_nodes[store].CoreOf(request.Shard) is not { } core)
        {
            return new ScanResponse { Code = NoKvErrorCode.StoreUnavailable, CurrentEpoch = 0 };
        }

        return await core.ScanAsync(request);
    }

    /// <summary>A replica's status as the replica grain's GetStatus answers it (peer id 0: the store holds none).</summary>
    public async Task<ReplicaStatus> CallStatusAsync(StoreId store, ShardId shard)
    {
        await _nodes[store].WhenRunningAsync();
        return _nodes[store].Status(shard);
    }

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
