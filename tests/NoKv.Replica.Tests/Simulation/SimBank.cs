using System.Globalization;
using System.Text;
using NoKv.Abstractions.Transactions;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The accounts the simulated transaction clients move money between, and the history they record. Accounts come in
/// pairs (<c>c{i}-b0</c>, <c>c{i}-b1</c>, sorted among the plain clients' keys, so the splits spread them over the
/// shards); a transfer out of an account requires its pair to hold the amount, so write skew would drive a pair's sum
/// below zero. Checked, per seed:
/// - every snapshot read sums to the bank's total and no pair is negative (at once);
/// - after the quiet period, every transaction whose outcome its client did not learn is decided at its primary
///   (check-status, rolling back what never committed); every account is read (resolving the locks left behind), and a
///   second read at a newer timestamp must meet no lock at all;
/// - serializability: replayed in commit-timestamp order, each committed transaction read exactly the state its
///   predecessors left (so no write skew, no lost update, no read of an uncommitted or partially committed write), every
///   snapshot read saw exactly the state of the commits at or below its timestamp, and the final state is the replay's;
/// - atomicity: every committed transaction's writes are all there at its commit timestamp (a sample, read back).
/// </summary>
internal sealed class SimBank
{
    public const long InitialBalance = 100;
    private readonly ReplicaSimulation _sim;
    private readonly List<SimTxnRecord> _history = new();
    private readonly List<(long Ts, Dictionary<string, long> Values)> _snapshots = new();

    public SimBank(ReplicaSimulation sim, int pairs)
    {
        _sim = sim;
        Accounts = Enumerable.Range(0, pairs).SelectMany(i => new[] { $"c{i}-b0", $"c{i}-b1" }).ToArray();
    }

    public IReadOnlyList<string> Accounts { get; }

    public long Total => InitialBalance * Accounts.Count;

    public int Abandoned { get; set; }

    public long Committed => _history.Count(r => r.Outcome == SimTxnOutcome.Committed);

    public long RolledForward { get; set; }

    public long RolledBack { get; set; }

    public long LiveLocksWaited { get; set; }

    public long ValidationConflicts { get; set; }

    public long Rewrites { get; set; }

    public static string Partner(string account) => account.EndsWith("-b0", StringComparison.Ordinal) ? account[..^1] + "1" : account[..^1] + "0";

    public static byte[] Encode(long n) => Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture));

    public static long Decode(byte[]? value) => value is null ? InitialBalance : long.Parse(Encoding.UTF8.GetString(value), CultureInfo.InvariantCulture);

    public void Begin(SimTxnRecord record) => _history.Add(record);

    public void Snapshot(long ts, Dictionary<string, long> values)
    {
        CheckBalances($"snapshot at {ts}", values);
        _snapshots.Add((ts, values));
    }

    public string Summary() =>
        $"{_history.Count(r => r.Outcome == SimTxnOutcome.Committed)} of {_history.Count} transactions committed " +
        $"({string.Join(", ", _history.Where(r => r.Outcome == SimTxnOutcome.Committed).GroupBy(r => r.Path).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"))}), " +
        $"{Abandoned} abandoned mid-commit, {_snapshots.Count} bank snapshots, {Rewrites} plain rewrites, {ValidationConflicts} validation conflicts, " +
        $"locks resolved: {RolledForward} rolled forward, {RolledBack} rolled back, {LiveLocksWaited} waits on live ones";

    /// <summary>After the quiet period (every client finished): decides, reads and checks everything above.</summary>
    public async Task CheckFinalAsync(SimTxnClient client)
    {
        const long budget = 20_000;
        foreach (var record in _history.Where(r => r.Outcome == SimTxnOutcome.Unknown))
        {
            await DecideAsync(client, record, _sim.Now + budget);
        }

        if (await client.TimestampAsync(_sim.Now + budget) is not { } ts
            || await client.ReadAtAsync(Accounts, ts, _sim.Now + budget) is not { } final)
        {
            _sim.Violation("bank: the final read of the accounts failed");
            return;
        }

        var locksMet = new List<TxnLockInfo>();
        if (await client.TimestampAsync(_sim.Now + budget) is not { } again || await client.ReadAtAsync(Accounts, again, _sim.Now + budget, locksMet) is null)
        {
            _sim.Violation("bank: the second final read of the accounts failed");
        }
        else if (locksMet.Count > 0)
        {
            _sim.Violation($"bank: {locksMet.Count} locks left after every account was read once after the quiet period, the first of txn {locksMet[0].StartTs} on {Encoding.UTF8.GetString(locksMet[0].Key)}");
        }

        CheckBalances("final state", final);
        Replay(final);
        await CheckAtomicAsync(client);
    }

    private async Task DecideAsync(SimTxnClient client, SimTxnRecord record, long deadline)
    {
        var primary = ReplicaSimulation.Bytes(record.Primary);
        while (_sim.Now < deadline)
        {
            var status = await client.CallAsync(primary, s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.CheckStatus, StartTs = record.StartTs, PrimaryKey = primary, RollbackIfAbsent = true }, deadline);
            switch (status?.Status)
            {
                case TxnStatus.Committed:
                    record.Outcome = SimTxnOutcome.Committed;
                    record.CommitTs = status.CommitTs;
                    return;
                case TxnStatus.RolledBack:
                    record.Outcome = SimTxnOutcome.Aborted;
                    return;
                default:
                    await _sim.Delay(200);
                    break;
            }
        }

        _sim.Violation($"bank: {record} could not be decided at its primary after the quiet period");
    }

    private void Replay(Dictionary<string, long> final)
    {
        var state = Accounts.ToDictionary(a => a, _ => InitialBalance);
        var committed = _history.Where(r => r.Outcome == SimTxnOutcome.Committed).OrderBy(r => r.CommitTs).ToList();
        var snapshots = _snapshots.OrderBy(s => s.Ts).ToList();
        int next = 0;
        for (int i = 0; i < committed.Count; i++)
        {
            var record = committed[i];
            for (; next < snapshots.Count && snapshots[next].Ts < record.CommitTs; next++)
            {
                CheckSnapshot(snapshots[next].Ts, snapshots[next].Values, state);
            }

            if (i == 0 || committed[i - 1].CommitTs != record.CommitTs)
            {
                OrderTies(committed, i, state);
                record = committed[i];
            }

            foreach (var (key, value) in record.Reads)
            {
                if (state[key] != value)
                {
                    _sim.Violation($"bank: not serializable in commit-timestamp order: {record} read {key}={value}, but the commits before it left {state[key]} (last writer: {LastWriter(committed, key, record.CommitTs)})");
                    break;
                }
            }

            foreach (var (key, value) in record.Writes)
            {
                state[key] = value;
            }
        }

        for (; next < snapshots.Count; next++)
        {
            CheckSnapshot(snapshots[next].Ts, snapshots[next].Values, state);
        }

        foreach (var account in Accounts)
        {
            if (final[account] != state[account])
            {
                _sim.Violation($"bank: {account} ends at {final[account]}, the committed history says {state[account]} (last writer: {LastWriter(committed, account, long.MaxValue)}): a lost or partial commit");
            }
        }
    }

    /// <summary>
    /// Commit timestamps are unique per key, not per cluster: a shard stamps a one-phase commit at max(floor, ...) + 1,
    /// which the oracle may issue afterwards to another transaction as its commit timestamp (its acknowledgement waits
    /// for that, its stamp does not). Transactions that tie are all visible at that timestamp and none below it, and
    /// validation's bound is inclusive (a reader of a key written at its own commit timestamp conflicts), so ties
    /// serialize in the order their reads say: the first order of the tied group (at most a handful) in which every
    /// read matches is taken; none matching leaves the order as it is, and the replay reports the violation.
    /// </summary>
    private static void OrderTies(List<SimTxnRecord> committed, int first, Dictionary<string, long> state)
    {
        int end = first;
        while (end < committed.Count && committed[end].CommitTs == committed[first].CommitTs)
        {
            end++;
        }

        if (end - first < 2 || end - first > 5)
        {
            return;
        }

        var group = committed.GetRange(first, end - first);
        foreach (var order in Permutations(group))
        {
            var trial = new Dictionary<string, long>(state);
            bool fits = true;
            foreach (var record in order)
            {
                fits &= record.Reads.All(r => trial[r.Key] == r.Value);
                foreach (var (key, value) in record.Writes)
                {
                    trial[key] = value;
                }
            }

            if (fits)
            {
                for (int i = 0; i < order.Count; i++)
                {
                    committed[first + i] = order[i];
                }

                return;
            }
        }
    }

    private static IEnumerable<List<SimTxnRecord>> Permutations(List<SimTxnRecord> items)
    {
        if (items.Count <= 1)
        {
            yield return items;
            yield break;
        }

        for (int i = 0; i < items.Count; i++)
        {
            var rest = items.Where((_, j) => j != i).ToList();
            foreach (var tail in Permutations(rest))
            {
                tail.Insert(0, items[i]);
                yield return tail;
            }
        }
    }

    private void CheckSnapshot(long ts, Dictionary<string, long> values, Dictionary<string, long> state)
    {
        foreach (var (key, value) in values)
        {
            if (state[key] != value)
            {
                _sim.Violation($"bank: the snapshot at {ts} read {key}={value}, the commits at or below it leave {state[key]}");
                return;
            }
        }
    }

    /// <summary>A sample of committed multi-key transactions read back at their commit timestamps: all their writes.</summary>
    private async Task CheckAtomicAsync(SimTxnClient client)
    {
        var committed = _history.Where(r => r.Outcome == SimTxnOutcome.Committed).ToList();
        int step = Math.Max(1, committed.Count / 40);
        for (int i = 0; i < committed.Count; i += step)
        {
            var record = committed[i];
            if (await client.ReadAtAsync(record.Writes.Keys.ToList(), record.CommitTs, _sim.Now + 10_000) is not { } values)
            {
                continue; // below the safe point GC raised: refused, never answered differently
            }

            foreach (var (key, value) in record.Writes)
            {
                if (values[key] != value)
                {
                    _sim.Violation($"bank: {record} is committed but {key} reads {values[key]} at its commit timestamp: not atomic");
                    break;
                }
            }
        }
    }

    private void CheckBalances(string what, Dictionary<string, long> values)
    {
        long sum = values.Values.Sum();
        if (sum != Total)
        {
            _sim.Violation($"bank: {what} sums to {sum}, not {Total}: {string.Join(", ", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"))}");
        }

        foreach (var account in values.Keys.Where(a => a.EndsWith("-b0", StringComparison.Ordinal)))
        {
            if (values.TryGetValue(Partner(account), out long partner) && values[account] + partner < 0)
            {
                _sim.Violation($"bank: {what}: the pair of {account} holds {values[account] + partner}: write skew committed");
            }
        }
    }

    private static string LastWriter(List<SimTxnRecord> committed, string key, long before) =>
        committed.LastOrDefault(r => r.CommitTs < before && r.Writes.ContainsKey(key))?.ToString() ?? "none";
}
