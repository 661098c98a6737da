namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// The clients' view of a run: which proposals were acknowledged (committed and reported back by the
/// node that accepted them) and which reads returned what. It checks that reads are linearizable and
/// tells the liveness check which log index every acknowledged write reached.
/// </summary>
/// <remarks>
/// <para>Acknowledgement follows the ProposalResult contract: the proposing node reports success when it
/// applies an entry at the accepted index with the accepted term; any other entry there means the
/// proposal was lost. A crash of the proposing node loses the answer (the write may still commit; it
/// is then simply never acknowledged).</para>
/// <para>Reads: every write and read completion is stamped with a logical sequence number. A read that
/// started at sequence s must return a write whose log index is at least that of every write to the same
/// key acknowledged before s, and at least that of every read of the key completed before s (so later
/// reads never travel back in time). Values are write ids, so each returned value names one log index.</para>
/// Single-threaded.
/// </remarks>
public sealed class ClientLedger
{
    private readonly Dictionary<(ulong Node, ulong Index), LedgerProposal> _pending = [];
    private readonly Dictionary<ulong, ulong> _indexOfOp = [];
    private readonly Dictionary<string, List<(long Sequence, ulong Index)>> _floorByKey = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, LedgerRead> _reads = [];
    private readonly Dictionary<ulong, ulong> _ackedIndexOfOp = [];
    private long _sequence;
    private ulong _nextOpId;
    private ulong _nextReadId;

    public ulong MaxAcknowledgedIndex { get; private set; }

    public int Acknowledged => _ackedIndexOfOp.Count;

    public int Lost { get; private set; }

    public int ReadsCompleted { get; private set; }

    public int ReadsPending => _reads.Count;

    public ulong NextOpId() => ++_nextOpId;

    /// <summary>Whether the write <paramref name="opId"/> was acknowledged, and at which index.</summary>
    public bool TryGetAcknowledged(ulong opId, out ulong index) => _ackedIndexOfOp.TryGetValue(opId, out index);

    /// <summary>The log index at which <paramref name="opId"/> was first applied anywhere, if it was.</summary>
    public bool TryGetAppliedIndex(ulong opId, out ulong index) => _indexOfOp.TryGetValue(opId, out index);

    public void Proposed(ulong node, ulong index, ulong term, KvCommand command) =>
        _pending[(node, index)] = new LedgerProposal(term, command);

    /// <summary>Called for every entry any node applies (command is null for non-commands).</summary>
    public void Applied(ulong node, ulong index, ulong term, KvCommand? command)
    {
        if (command is { } applied && !_indexOfOp.ContainsKey(applied.OpId))
        {
            _indexOfOp[applied.OpId] = index;
        }

        if (!_pending.Remove((node, index), out var proposal))
        {
            return;
        }

        if (proposal.Term == term && command is { } c && c.OpId == proposal.Command.OpId)
        {
            _ackedIndexOfOp[c.OpId] = index;
            MaxAcknowledgedIndex = Math.Max(MaxAcknowledgedIndex, index);
            RaiseFloor(c.Key, index);
        }
        else
        {
            Lost++;
        }
    }

    /// <summary>The node crashed: its clients never hear about its pending proposals and reads.</summary>
    public void Crashed(ulong node)
    {
        foreach (var key in _pending.Keys.Where(k => k.Node == node).ToList())
        {
            _pending.Remove(key);
            Lost++;
        }

        foreach (var id in _reads.Where(r => r.Value.Node == node).Select(r => r.Key).ToList())
        {
            _reads.Remove(id);
        }
    }

    /// <summary>Starts a read of <paramref name="key"/> at <paramref name="node"/>; returns its request id.</summary>
    public ulong StartRead(ulong node, string key)
    {
        var id = ++_nextReadId;
        _reads[id] = new LedgerRead(node, key, ++_sequence);
        return id;
    }

    public void AbandonRead(ulong id) => _reads.Remove(id);

    public bool IsReadPending(ulong id) => _reads.ContainsKey(id);

    /// <summary>
    /// Completes read <paramref name="id"/> with the write id the node's state machine held for the key
    /// (0 = never written) at <paramref name="readIndex"/>.
    /// </summary>
    public void CompleteRead(ulong id, ulong readIndex, ulong valueOpId, ulong appliedIndex)
    {
        if (!_reads.Remove(id, out var read))
        {
            return;
        }

        ulong valueIndex = 0;
        if (valueOpId != 0 && !_indexOfOp.TryGetValue(valueOpId, out valueIndex))
        {
            throw new SafetyViolationException("linearizable read", $"read {id} of '{read.Key}' at node {read.Node} returned write {valueOpId}, which no node applied");
        }

        var floor = FloorBefore(read.Key, read.StartSequence);
        if (valueIndex < floor)
        {
            throw new SafetyViolationException(
                "linearizable read",
                $"read {id} of '{read.Key}' at node {read.Node} (read index {readIndex}, applied {appliedIndex}) returned the write at index {valueIndex}, "
                + $"older than the write at index {floor} acknowledged or read before the read started");
        }

        ReadsCompleted++;
        RaiseFloor(read.Key, valueIndex);
    }

    private void RaiseFloor(string key, ulong index)
    {
        if (!_floorByKey.TryGetValue(key, out var floors))
        {
            floors = [];
            _floorByKey[key] = floors;
        }

        // Store the running maximum so FloorBefore is one binary search.
        var max = floors.Count == 0 ? index : Math.Max(index, floors[^1].Index);
        floors.Add((++_sequence, max));
    }

    private ulong FloorBefore(string key, long sequence)
    {
        if (!_floorByKey.TryGetValue(key, out var floors))
        {
            return 0;
        }

        int lo = 0, hi = floors.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (floors[mid].Sequence < sequence)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo == 0 ? 0 : floors[lo - 1].Index;
    }
}
