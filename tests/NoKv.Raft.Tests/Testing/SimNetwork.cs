namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// A simulated message network between numbered nodes, driven by an <see cref="EventScheduler"/>:
/// per-link loss, duplication and random delay (hence reordering), and a connectivity relation that
/// expresses any partition, including one-way cuts and "bridge" nodes that see both halves.
/// </summary>
/// <remarks>
/// Connectivity is checked twice, when a message is sent and again when it would arrive, so cutting a
/// link also loses what was in flight on it (as a broken connection would). Whether the receiver is up
/// is asked at arrival: a message to a crashed node is lost, while one that arrives after the node
/// restarted is delivered (an adversarial but legal network: Raft must tolerate stale deliveries).
/// Every copy of a message (duplicates included) is the same value or reference; the message type must be immutable.
/// Single-threaded, like the scheduler it runs on.
/// </remarks>
public sealed class SimNetwork<TMessage>
{
    private readonly EventScheduler _scheduler;
    private readonly SimRandom _random;
    private readonly TraceRecorder _trace;
    private readonly Func<TMessage, string> _describe;
    private readonly HashSet<(ulong From, ulong To)> _cut = [];
    private readonly Dictionary<(ulong From, ulong To), LinkFaults> _linkFaults = [];
    private readonly SortedSet<ulong> _nodes = [];
    private LinkFaults _defaultFaults = LinkFaults.Reliable;

    /// <param name="deliver">Hands a message to its receiver; called only for receivers that are up.</param>
    /// <param name="isUp">Whether a node is running at this instant.</param>
    public SimNetwork(
        EventScheduler scheduler,
        SimRandom random,
        TraceRecorder trace,
        Action<ulong, TMessage> deliver,
        Func<ulong, bool> isUp,
        Func<TMessage, string> describe)
    {
        _scheduler = scheduler;
        _random = random;
        _trace = trace;
        Deliver = deliver;
        IsUp = isUp;
        _describe = describe;
    }

    public long Sent { get; private set; }

    public long Delivered { get; private set; }

    public long Dropped { get; private set; }

    public long Duplicated { get; private set; }

    public IReadOnlyCollection<ulong> Nodes => _nodes;

    private Action<ulong, TMessage> Deliver { get; }

    private Func<ulong, bool> IsUp { get; }

    /// <summary>Faults of every link without its own setting.</summary>
    public LinkFaults DefaultFaults
    {
        get => _defaultFaults;
        set
        {
            value.Validate();
            _defaultFaults = value;
            _trace.Record($"net faults default {value}");
        }
    }

    public void AddNode(ulong id) => _nodes.Add(id);

    public void RemoveNode(ulong id)
    {
        _nodes.Remove(id);
        _cut.RemoveWhere(l => l.From == id || l.To == id);
    }

    public void SetLinkFaults(ulong from, ulong to, LinkFaults faults)
    {
        faults.Validate();
        _linkFaults[(from, to)] = faults;
        _trace.Record($"net faults {from}->{to} {faults}");
    }

    public void ClearLinkFaults()
    {
        _linkFaults.Clear();
        _trace.Record("net faults per-link cleared");
    }

    public LinkFaults FaultsOf(ulong from, ulong to) =>
        _linkFaults.TryGetValue((from, to), out var faults) ? faults : _defaultFaults;

    /// <summary>True when messages from <paramref name="from"/> currently reach <paramref name="to"/>.</summary>
    public bool IsConnected(ulong from, ulong to) => from == to || !_cut.Contains((from, to));

    /// <summary>Cuts the one-way link from -> to (to still reaches from unless cut separately).</summary>
    public void CutOneWay(ulong from, ulong to)
    {
        if (from != to && _cut.Add((from, to)))
        {
            _trace.Record($"net cut {from}->{to}");
        }
    }

    public void ConnectOneWay(ulong from, ulong to)
    {
        if (_cut.Remove((from, to)))
        {
            _trace.Record($"net connect {from}->{to}");
        }
    }

    public void Cut(ulong a, ulong b)
    {
        CutOneWay(a, b);
        CutOneWay(b, a);
    }

    public void Connect(ulong a, ulong b)
    {
        ConnectOneWay(a, b);
        ConnectOneWay(b, a);
    }

    /// <summary>Cuts every link to and from <paramref name="node"/> (6.824's "disconnect").</summary>
    public void Isolate(ulong node)
    {
        _trace.Record($"net isolate {node}");
        foreach (var other in _nodes)
        {
            Cut(node, other);
        }
    }

    /// <summary>Restores every link to and from <paramref name="node"/> (6.824's "connect").</summary>
    public void Rejoin(ulong node)
    {
        _trace.Record($"net rejoin {node}");
        foreach (var other in _nodes)
        {
            Connect(node, other);
        }
    }

    /// <summary>
    /// Symmetric partition: nodes talk only within their group. Nodes named in no group are isolated.
    /// Replaces any previous connectivity.
    /// </summary>
    public void Partition(params IReadOnlyCollection<ulong>[] groups)
    {
        _trace.Record($"net partition {string.Join(" | ", groups.Select(g => string.Join(',', g)))}");
        var groupOf = new Dictionary<ulong, int>();
        for (var g = 0; g < groups.Length; g++)
        {
            foreach (var node in groups[g])
            {
                groupOf[node] = g;
            }
        }

        _cut.Clear();
        foreach (var a in _nodes)
        {
            foreach (var b in _nodes)
            {
                if (a != b && (!groupOf.TryGetValue(a, out var ga) || !groupOf.TryGetValue(b, out var gb) || ga != gb))
                {
                    _cut.Add((a, b));
                }
            }
        }
    }

    /// <summary>
    /// Bridge partition: <paramref name="left"/> and <paramref name="right"/> cannot talk to each other,
    /// but <paramref name="bridge"/> talks to both. Majorities can form on either side through the
    /// bridge, which is exactly where naive leases and vote handling go wrong.
    /// </summary>
    public void Bridge(IReadOnlyCollection<ulong> left, ulong bridge, IReadOnlyCollection<ulong> right)
    {
        _trace.Record($"net bridge {string.Join(',', left)} <{bridge}> {string.Join(',', right)}");
        _cut.Clear();
        foreach (var a in left)
        {
            foreach (var b in right)
            {
                _cut.Add((a, b));
                _cut.Add((b, a));
            }
        }
    }

    /// <summary>Restores full connectivity (per-link fault settings stay).</summary>
    public void HealAll()
    {
        _trace.Record("net heal");
        _cut.Clear();
    }

    /// <summary>Sends one message; it arrives (maybe twice, maybe never) after a random delay.</summary>
    /// <returns>False when the message was dropped at once (link cut or lost); a transport would see the
    /// failure. True does not promise delivery: the link may be cut while the message is in flight.</returns>
    public bool Send(ulong from, ulong to, TMessage message)
    {
        Sent++;
        if (!IsConnected(from, to))
        {
            Drop(message, "cut");
            return false;
        }

        var faults = FaultsOf(from, to);
        if (_random.Chance(faults.DropRate))
        {
            Drop(message, "lost");
            return false;
        }

        Schedule(from, to, message, faults, duplicate: false);
        if (_random.Chance(faults.DuplicateRate))
        {
            Duplicated++;
            Schedule(from, to, message, faults, duplicate: true);
        }

        return true;
    }

    private void Schedule(ulong from, ulong to, TMessage message, LinkFaults faults, bool duplicate)
    {
        var delay = _random.Chance(faults.LongDelayRate)
            ? _random.NextInRange(faults.MaxDelay, Math.Max(faults.MaxDelay, faults.LongDelay))
            : _random.NextInRange(faults.MinDelay, faults.MaxDelay);
        _scheduler.After(delay, () =>
        {
            if (!IsConnected(from, to))
            {
                Drop(message, "cut-in-flight");
                return;
            }

            if (!IsUp(to))
            {
                Drop(message, "receiver-down");
                return;
            }

            Delivered++;
            if (_trace.Enabled)
            {
                _trace.Record($"recv{(duplicate ? "(dup)" : string.Empty)} {_describe(message)}");
            }

            Deliver(to, message);
        });
    }

    private void Drop(TMessage message, string reason)
    {
        Dropped++;
        if (_trace.Enabled)
        {
            _trace.Record($"drop({reason}) {_describe(message)}");
        }
    }
}
