using NoKv.Raft.Messages;
using NoKv.Raft.Storage;

namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// A whole Raft cluster in one thread: hosts, the simulated network and clock, the safety checker and
/// the client ledger, plus the operations scenarios are written in (crash, restart, partition, propose,
/// wait for a condition with a virtual deadline). Every run is a pure function of <see cref="SimOptions.Seed"/>.
/// </summary>
/// <remarks>
/// Scenarios read like the classic Raft lab tests: act, then <see cref="RunFor"/> or <see cref="RunUntil"/>
/// (which advance virtual time and run every due event, checking safety at each step), then assert.
/// Not thread-safe.
/// </remarks>
public sealed class SimCluster
{
    private readonly SortedDictionary<ulong, SimHost> _hosts = [];
    private readonly Dictionary<ulong, double> _drift = [];
    private readonly SimRandom _random;
    private readonly SimRandom _hostRandom;
    private readonly SimRandom _workloadRandom;
    private readonly TraceRecorder _recorder;
    private readonly HashSet<ulong> _decommissioned = [];
    private int _clientGeneration;

    public SimCluster(SimOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Nodes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Nodes, "a cluster needs at least one node");
        }

        Options = options;
        _random = new SimRandom(options.Seed);
        var networkRandom = _random.Fork();
        _hostRandom = _random.Fork();
        _workloadRandom = _random.Fork();
        Scheduler = new EventScheduler();
        _recorder = new TraceRecorder(Scheduler) { Enabled = options.Trace };
        Network = new SimNetwork<Message>(Scheduler, networkRandom, _recorder, DeliverTo, IsUp, m => m.ToString());
        Network.DefaultFaults = options.Faults;
        Trace($"cluster {options}");

        var voters = new ulong[options.Nodes];
        for (var i = 0; i < voters.Length; i++)
        {
            voters[i] = (ulong)(i + 1);
        }

        foreach (var id in voters)
        {
            AddHost(id, MemoryRaftStorage.CreateBootstrapped(new ConfState(voters)));
        }

        Checker.ObserveInitialMembership(new ConfState(voters).ToString());

        foreach (var id in voters)
        {
            _hosts[id].Start();
        }
    }

    public SimOptions Options { get; }

    public EventScheduler Scheduler { get; }

    public SimNetwork<Message> Network { get; }

    public SafetyChecker Checker { get; } = new();

    public ClientLedger Ledger { get; } = new();

    public TraceRecorder Recorder => _recorder;

    public bool TraceEnabled => _recorder.Enabled;

    /// <summary>The scenario's own random stream (workload choices), independent of network and timers.</summary>
    public SimRandom Random => _workloadRandom;

    public long Now => Scheduler.Now;

    public IReadOnlyCollection<ulong> Ids => _hosts.Keys;

    public SimHost this[ulong id] => _hosts[id];

    public IEnumerable<SimHost> Hosts => _hosts.Values;

    /// <summary>Records a trace line (no-op unless tracing).</summary>
    public void Trace(string line) => _recorder.Record(line);

    // ---- Faults ----------------------------------------------------------------------------------

    public void Crash(ulong id)
    {
        Trace($"op crash {id}");
        _hosts[id].Crash();
    }

    public void Restart(ulong id)
    {
        Trace($"op restart {id}");
        _hosts[id].Start();
    }

    /// <summary>Crash then immediately restart from durable state (6.824's "crash and restart").</summary>
    public void Reboot(ulong id)
    {
        Crash(id);
        Restart(id);
    }

    public void Isolate(ulong id) => Network.Isolate(id);

    public void Rejoin(ulong id) => Network.Rejoin(id);

    /// <summary>
    /// Sets how much slower (positive) or faster (negative) <paramref name="id"/>'s clock ticks than real
    /// time, e.g. 1.0 = half speed. Takes effect from its next tick.
    /// </summary>
    public void SetClockDrift(ulong id, double drift)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(drift, -1.0);
        _drift[id] = drift;
        Trace($"op clock-drift {id} {drift}");
    }

    /// <summary>Restores connectivity and reliable links (crashed nodes stay down).</summary>
    public void HealNetwork()
    {
        Network.HealAll();
        Network.ClearLinkFaults();
        Network.DefaultFaults = LinkFaults.Reliable;
    }

    /// <summary>Adds a brand-new empty server (it joins once a ConfChange adds it) and starts it.</summary>
    public SimHost AddServer(ulong id)
    {
        var host = AddHost(id, new MemoryRaftStorage());
        Trace($"op add-server {id}");
        host.Start();
        return host;
    }

    // ---- Running ---------------------------------------------------------------------------------

    /// <summary>Advances virtual time by <paramref name="duration"/>, running every event due.</summary>
    public void RunFor(long duration)
    {
        var deadline = Now + duration;
        while (Scheduler.RunNext(deadline))
        {
        }
    }

    /// <summary>Runs until <paramref name="condition"/> holds (checked after every event) or <paramref name="timeout"/> passes.</summary>
    /// <returns>Whether the condition was met.</returns>
    public bool RunUntil(Func<bool> condition, long timeout)
    {
        var deadline = Now + timeout;
        if (condition())
        {
            return true;
        }

        while (Scheduler.RunNext(deadline))
        {
            if (condition())
            {
                return true;
            }
        }

        return condition();
    }

    // ---- Observation -----------------------------------------------------------------------------

    /// <summary>
    /// The leader that the up nodes among <paramref name="among"/> agree on: a node that is leader of the
    /// highest term any of them is in, and is known as leader by a majority of <paramref name="among"/>... or 0.
    /// </summary>
    public ulong AgreedLeader(IReadOnlyCollection<ulong> among)
    {
        ulong best = 0;
        ulong bestTerm = 0;
        foreach (var id in among)
        {
            var host = _hosts[id];
            if (host.Node is { IsLeader: true } node && node.Term >= bestTerm)
            {
                best = id;
                bestTerm = node.Term;
            }
        }

        if (best == 0)
        {
            return 0;
        }

        var agree = 0;
        foreach (var id in among)
        {
            if (_hosts[id].Node is { } node && node.Term == bestTerm && node.Lead == best)
            {
                agree++;
            }
        }

        return agree * 2 > among.Count ? best : 0;
    }

    /// <summary>Waits until the nodes in <paramref name="among"/> (default: all) agree on a leader; fails if none emerges.</summary>
    public ulong CheckOneLeader(IReadOnlyCollection<ulong>? among = null, long? timeout = null)
    {
        among ??= UpIds();
        ulong leader = 0;
        if (!RunUntil(() => (leader = AgreedLeader(among)) != 0, timeout ?? (30 * Options.ElectionTimeout)))
        {
            throw new SafetyViolationException("liveness", $"no leader agreed among {string.Join(',', among)} by t={Now}");
        }

        return leader;
    }

    /// <summary>No node among <paramref name="among"/> believes it leads a term that a majority of them is in.</summary>
    public void CheckNoLeader(IReadOnlyCollection<ulong> among)
    {
        var leader = AgreedLeader(among);
        if (leader != 0)
        {
            throw new SafetyViolationException("no leader expected", $"node {leader} leads among {string.Join(',', among)}");
        }
    }

    public ulong[] UpIds() => _hosts.Values.Where(h => h.IsUp).Select(h => h.Id).ToArray();

    /// <summary>Members (voters and learners) as of the most advanced applied configuration.</summary>
    public ConfState LatestConfState()
    {
        SimHost? best = null;
        foreach (var host in _hosts.Values)
        {
            if (best is null || host.StateMachine.AppliedIndex > best.StateMachine.AppliedIndex)
            {
                best = host;
            }
        }

        return best!.AppliedConfState;
    }

    /// <summary>Number of nodes that have applied index <paramref name="index"/> (6.824's nCommitted).</summary>
    public int AppliedCount(ulong index) => _hosts.Values.Count(h => h.IsUp && h.StateMachine.AppliedIndex >= index);

    // ---- Workload --------------------------------------------------------------------------------

    public KvCommand NewCommand(string key) => new(Ledger.NextOpId(), key, Options.PayloadPadding);

    /// <summary>Proposes <paramref name="command"/> at <paramref name="id"/> (6.824's Start()).</summary>
    public ProposalResult? Propose(ulong id, KvCommand command) => _hosts[id].Propose(command);

    /// <summary>
    /// 6.824's one(): submits a new write to whichever node accepts it as leader and waits until at least
    /// <paramref name="expected"/> nodes applied it. With <paramref name="retry"/>, a proposal that does not
    /// commit in time is re-submitted as a new write (the lost one may still commit later).
    /// </summary>
    /// <returns>The log index of the write.</returns>
    public ulong One(string key, int expected, bool retry, long? timeout = null)
    {
        var deadline = Now + (timeout ?? (100 * Options.ElectionTimeout));
        var ids = _hosts.Keys.ToArray();
        var start = 0;
        while (Now < deadline)
        {
            ulong index = 0;
            KvCommand command = default;

            // Try self-proclaimed leaders of the highest term first: without check-quorum a partitioned
            // leader keeps leading its stale term forever, and a client that kept asking it would stall.
            var order = ids.Select((id, k) => (Id: id, Rank: _hosts[id].Node is { IsLeader: true } n ? n.Term : 0, Rotation: (k - start + ids.Length * 1000) % ids.Length))
                .OrderByDescending(x => x.Rank).ThenBy(x => x.Rotation).Select(x => x.Id).ToArray();
            for (var k = 0; k < order.Length && index == 0; k++)
            {
                var id = order[k];
                var candidate = NewCommand(key);
                if (_hosts[id].Propose(candidate) is { IsAccepted: true } result)
                {
                    index = result.Index;
                    command = candidate;
                }
            }

            start++;
            if (index == 0)
            {
                RunFor(Options.ElectionTimeout / 2);
                continue;
            }

            var op = command.OpId;
            var committed = RunUntil(
                () => Ledger.TryGetAppliedIndex(op, out var at) && at == index && AppliedCount(index) >= expected,
                Math.Min(20 * Options.ElectionTimeout, Math.Max(1, deadline - Now)));
            if (committed)
            {
                return index;
            }

            if (!retry)
            {
                throw new SafetyViolationException("liveness", $"write op{op} at index {index} not applied by {expected} nodes in time (t={Now})");
            }
        }

        throw new SafetyViolationException("liveness", $"one({key}) failed to reach agreement of {expected} nodes by t={Now}");
    }

    /// <summary>
    /// The final liveness check: heal the network, restart every crashed member, and require that every
    /// acknowledged write is applied by every member within <paramref name="timeout"/>, and that all
    /// members then reach the same state.
    /// </summary>
    public void HealAndCheckLiveness(long? timeout = null)
    {
        Trace("op heal-and-check");
        HealNetwork();
        var conf = LatestConfState();
        var members = conf.Voters.Concat(conf.Learners).Where(id => _hosts.ContainsKey(id) && !_decommissioned.Contains(id)).ToArray();
        foreach (var id in members)
        {
            if (!_hosts[id].IsUp)
            {
                Restart(id);
            }
        }

        var target = Ledger.MaxAcknowledgedIndex;
        var limit = timeout ?? (60 * Options.ElectionTimeout);
        if (!RunUntil(() => members.All(id => _hosts[id].IsUp && _hosts[id].StateMachine.AppliedIndex >= target), limit))
        {
            var lagging = string.Join(", ", members.Select(id => $"{id}:applied={_hosts[id].StateMachine.AppliedIndex}"));
            throw new SafetyViolationException(
                "liveness after heal",
                $"acknowledged writes up to index {target} not applied by all members {{{lagging}}} within {limit}ms of healing");
        }

        // Converge: once writes stop, every member should reach the same applied index and digest.
        if (!RunUntil(
                () =>
                {
                    var first = _hosts[members[0]].StateMachine;
                    return members.All(id => _hosts[id].StateMachine.AppliedIndex == first.AppliedIndex && _hosts[id].StateMachine.Digest == first.Digest);
                },
                limit))
        {
            var states = string.Join(", ", members.Select(id => $"{id}:{_hosts[id].StateMachine.AppliedIndex}/{_hosts[id].StateMachine.Digest:x16}"));
            throw new SafetyViolationException("convergence after heal", $"members did not converge: {states}");
        }
    }

    /// <summary>
    /// Commits one membership change through whichever node leads, retrying while another change is
    /// pending, leadership moves or the proposal is lost; returns the log index it committed at.
    /// </summary>
    public ulong ChangeMembership(ConfChange change, long? timeout = null)
    {
        var deadline = Now + (timeout ?? (200 * Options.ElectionTimeout));
        while (Now < deadline)
        {
            var leader = _hosts.Values.FirstOrDefault(h => h.IsLeader && _hosts.Values.All(o => !o.IsLeader || o.Term <= h.Term));
            var result = leader?.ProposeConfChange(change);
            if (result is { IsAccepted: true } accepted)
            {
                var index = accepted.Index;
                RunUntil(() => Checker.TryGetCommitted(index, out _) || !_hosts[leader!.Id].IsLeader, 20 * Options.ElectionTimeout);
                if (Checker.TryGetCommitted(index, out var entry) && entry.Term == accepted.Term && entry.Type == (byte)EntryType.ConfChange)
                {
                    Trace($"op membership {change.Type} {change.NodeId} committed at {index}");
                    return index;
                }

                continue;
            }

            if (result is { Status: ProposalStatus.Rejected } rejected)
            {
                // An earlier attempt that looked lost (leader changed while waiting) may have committed after all.
                if (AlreadyApplied(leader!.AppliedConfState, change))
                {
                    Trace($"op membership {change.Type} {change.NodeId} already in effect");
                    return leader.StateMachine.AppliedIndex;
                }

                throw new InvalidOperationException($"membership change {change.Type} {change.NodeId} rejected: {rejected.Reason}");
            }

            RunFor(Options.ElectionTimeout / 2);
        }

        throw new SafetyViolationException("liveness", $"membership change {change.Type} {change.NodeId} not committed by t={Now}");
    }

    private static bool AlreadyApplied(ConfState conf, ConfChange change) => change.Type switch
    {
        ConfChangeType.AddNode => conf.Voters.Contains(change.NodeId),
        ConfChangeType.AddLearnerNode => conf.Learners.Contains(change.NodeId),
        _ => !conf.Voters.Contains(change.NodeId) && !conf.Learners.Contains(change.NodeId),
    };

    /// <summary>Stops a node for good and takes it off the network (after it was removed from the group).</summary>
    public void Decommission(ulong id)
    {
        Trace($"op decommission {id}");
        _hosts[id].Crash();
        _decommissioned.Add(id);
    }

    /// <summary>
    /// Starts <paramref name="clients"/> background clients, each proposing a write every
    /// <paramref name="interval"/> virtual ms to the node it believes leads (following NotLeader hints,
    /// else trying a random node), until <see cref="StopClients"/>. Models the lab's concurrent clients.
    /// </summary>
    public void StartClients(int clients, long interval)
    {
        var generation = ++_clientGeneration;
        for (var i = 0; i < clients; i++)
        {
            var client = i;
            ulong target = 0;
            void Step()
            {
                if (generation != _clientGeneration)
                {
                    return;
                }

                if (target == 0 || !_hosts.ContainsKey(target) || _decommissioned.Contains(target))
                {
                    target = _workloadRandom.Pick(_hosts.Keys.Where(id => !_decommissioned.Contains(id)).ToArray());
                }

                var result = _hosts[target].Propose(NewCommand($"c{client}-{_workloadRandom.Next(4)}"));
                if (result is not { IsAccepted: true })
                {
                    target = result is { LeaderHint: not 0 } r ? r.LeaderHint : 0;
                }

                Scheduler.After(_workloadRandom.NextInRange(1, interval), Step);
            }

            Scheduler.After(_workloadRandom.NextInRange(1, interval), Step);
        }

        Trace($"op clients start {clients} every {interval}ms");
    }

    public void StopClients()
    {
        _clientGeneration++;
        Trace("op clients stop");
    }

    // ---- Internals used by hosts -----------------------------------------------------------------

    internal bool Send(Message message) => Network.Send(message.From, message.To, message);

    internal double Drift(ulong id) => _drift[id];

    private SimHost AddHost(ulong id, MemoryRaftStorage storage)
    {
        var host = new SimHost(this, id, storage, _hostRandom.Fork(), Options.TickInterval);
        _hosts.Add(id, host);
        _drift[id] = Options.ClockDrift > 0 ? (_random.NextDouble() * 2 - 1) * Options.ClockDrift : 0;
        Network.AddNode(id);
        return host;
    }

    private void DeliverTo(ulong id, Message message)
    {
        if (_hosts.TryGetValue(id, out var host))
        {
            host.Deliver(message);
        }
    }

    private bool IsUp(ulong id) => _hosts.TryGetValue(id, out var host) && host.IsUp;
}
