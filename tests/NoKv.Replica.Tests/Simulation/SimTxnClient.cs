using System.Globalization;
using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// A transaction client of the simulated shards, running the protocol of docs/transactions.md the way
/// <c>client/NoKv.Client/Transactions/Transaction.cs</c> sequences it (that class needs the Orleans-backed
/// <c>KvStore</c>, so this is a faithful re-statement, not the class itself): reads at a start timestamp from the
/// oracle (one <c>GetMany</c> per shard, resolving locks through their primary), then one of three commit paths:
/// - one shard: <c>OnePhase</c>, stamped by the shard;
/// - primary in one phase: prewrite the other shards (their answers' read floors are the minimum commit timestamp, or
///   an oracle timestamp when one answers 0), then <c>OnePhasePrimary</c> at the primary's shard, then the
///   secondaries; a refused primary is decided at the primary (a rollback that answers Committed if an earlier
///   attempt applied) before the other locks are rolled back;
/// - classic: prewrite every shard, a commit timestamp from the oracle, validation of the keys read but not written,
///   the primary's commit (the commit point), then the secondaries.
/// Some transactions "crash" on purpose, after the prewrites or after the commit point: their locks stay behind for
/// other clients to resolve through the primary's status. Beside them the client does snapshot reads of every account
/// and plain compare-and-swaps that write an account's value back unchanged (a version that conflicts, never a change
/// of the bank's sum). Everything it learns goes to the <see cref="SimBank"/>, which checks the history.
/// </summary>
internal sealed class SimTxnClient
{
    public const long LockTtlMs = 1_500;
    private const long OperationBudgetMs = 12_000;
    private readonly ReplicaSimulation _sim;
    private readonly SimBank _bank;
    private readonly Dictionary<ShardId, StoreId> _leaderGuess = new();
    private readonly Guid _session;
    private long _sequence;

    public SimTxnClient(ReplicaSimulation sim, SimBank bank, int id)
    {
        _sim = sim;
        _bank = bank;
        Id = id;
        var sessionBytes = new byte[16];
        sim.Random.NextBytes(sessionBytes);
        _session = new Guid(sessionBytes);
    }

    public int Id { get; }

    public bool Finished { get; private set; }

    public async Task RunAsync(long untilMs)
    {
        var accounts = _bank.Accounts;
        while (_sim.Now < untilMs)
        {
            int pick = _sim.Random.Next(20);
            if (pick < 11)
            {
                await TransferAsync(abandon: false);
            }
            else if (pick < 13)
            {
                await TransferAsync(abandon: true);
            }
            else if (pick < 17)
            {
                await SnapshotAsync();
            }
            else
            {
                await RewriteAsync(accounts[_sim.Random.Next(accounts.Count)]);
            }

            await _sim.Delay(1 + _sim.Random.Next(20));
        }

        Finished = true;
    }

    /// <summary>A start timestamp from the simulated oracle; null if none came before the deadline.</summary>
    public async Task<long?> TimestampAsync(long deadline)
    {
        while (_sim.Now < deadline)
        {
            try
            {
                return await _sim.OracleTimestampsAsync(null, 1);
            }
            catch (TimeoutException)
            {
            }
        }

        return null;
    }

    /// <summary>Every account at a fresh snapshot: the bank's sum must hold in it, and the history must explain it.</summary>
    private async Task SnapshotAsync()
    {
        long deadline = _sim.Now + OperationBudgetMs;
        if (await TimestampAsync(deadline) is not { } ts || await ReadAtAsync(_bank.Accounts, ts, deadline) is not { } values)
        {
            return;
        }

        _bank.Snapshot(ts, values);
    }

    /// <summary>
    /// Moves a random amount from one account to another if the source's pair (it and its partner account) holds that
    /// much: the partner is read but not written, so two transfers out of the two accounts of a pair are the classic
    /// write skew, which validation (or a one-phase apply's read check) must refuse.
    /// </summary>
    private async Task TransferAsync(bool abandon)
    {
        long deadline = _sim.Now + OperationBudgetMs;
        var accounts = _bank.Accounts;
        string from = accounts[_sim.Random.Next(accounts.Count)];
        string to = accounts[_sim.Random.Next(accounts.Count)];
        long amount = 1 + _sim.Random.Next(150);
        int crashPoint = _sim.Random.Next(2);
        if (from == to || await TimestampAsync(deadline) is not { } start)
        {
            return;
        }

        string partner = SimBank.Partner(from);
        var readKeys = new[] { from, partner, to }.Distinct().ToList();
        if (await ReadAtAsync(readKeys, start, deadline) is not { } reads)
        {
            return;
        }

        if (reads[from] + reads[partner] < amount)
        {
            return;
        }

        var writes = new Dictionary<string, long> { [from] = reads[from] - amount, [to] = reads[to] + amount };
        var mutations = writes.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => new TxnMutation(ReplicaSimulation.Bytes(w.Key), SimBank.Encode(w.Value))).ToArray();
        var readOnly = readKeys.Where(k => !writes.ContainsKey(k)).Select(ReplicaSimulation.Bytes).ToArray();
        var primary = mutations[0].Key;
        var primaryShard = _sim.Route(primary);
        bool oneShard = mutations.All(m => primaryShard.Range.Contains(m.Key)) && readOnly.All(k => primaryShard.Range.Contains(k));
        string path = oneShard ? "one-phase" : readOnly.All(k => primaryShard.Range.Contains(k)) && _sim.Random.Next(3) != 0 ? "primary-in-one-phase" : "classic";
        var record = new SimTxnRecord { StartTs = start, Path = path, Reads = reads, Writes = writes, Primary = Encoding.UTF8.GetString(primary) };
        _bank.Begin(record);
        switch (path)
        {
            case "one-phase":
                await OnePhaseAsync(record, mutations, readOnly, deadline);
                break;
            case "primary-in-one-phase":
                await PrimaryInOnePhaseAsync(record, mutations, readOnly, abandon, crashPoint, deadline);
                break;
            default:
                await ClassicAsync(record, mutations, readOnly, abandon, crashPoint, deadline);
                break;
        }
    }

    private async Task OnePhaseAsync(SimTxnRecord record, TxnMutation[] mutations, byte[][] readOnly, long deadline)
    {
        bool ambiguous = false;
        while (_sim.Now < deadline)
        {
            var shard = _sim.Route(mutations[0].Key);
            if (!mutations.All(m => shard.Range.Contains(m.Key)) || !readOnly.All(k => shard.Range.Contains(k)))
            {
                // Split since the start: the real client would restart; an attempt still on its way decides at the end.
                Decide(record, ambiguous ? SimTxnOutcome.Unknown : SimTxnOutcome.Aborted);
                return;
            }

            var response = await CallOnceAsync(shard, new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.OnePhase, StartTs = record.StartTs, Mutations = mutations, Keys = readOnly });
            switch (response.Code)
            {
                case NoKvErrorCode.Ok:
                    Committed(record, response.CommitTs);
                    return;
                case NoKvErrorCode.KeyLocked when response.Lock is { } held:
                    await ResolveAsync(held, deadline);
                    continue;
                case NoKvErrorCode.WriteConflict or NoKvErrorCode.SnapshotTooOld or NoKvErrorCode.TxnAborted or NoKvErrorCode.KeyLocked:
                    // A conflict after an attempt whose answer was lost may be the refusal of a second attempt while the
                    // first is still on its way: only "no earlier attempt" makes the refusal final.
                    Decide(record, ambiguous ? SimTxnOutcome.Unknown : SimTxnOutcome.Aborted);
                    return;
                default:
                    ambiguous |= Transient(response.Code) && response.Code != NoKvErrorCode.NotLeader && response.Code != NoKvErrorCode.WrongShard;
                    if (!Transient(response.Code))
                    {
                        _sim.Violation($"txn client {Id}: one-phase commit of {record.StartTs} answered {response.Code}: {response.Detail}");
                        return;
                    }

                    await Backoff(shard.Id, response.Code, response.LeaderHint);
                    break;
            }
        }

        Decide(record, SimTxnOutcome.Unknown);
    }

    private async Task ClassicAsync(SimTxnRecord record, TxnMutation[] mutations, byte[][] readOnly, bool abandon, int crashPoint, long deadline)
    {
        var primary = mutations[0].Key;
        if (await PrewriteAsync(record, mutations, deadline) is null)
        {
            await AbortAsync(record, mutations, deadline);
            return;
        }

        if (abandon && crashPoint == 0)
        {
            _bank.Abandoned++;
            return;
        }

        if (await TimestampAsync(deadline) is not { } commitTs)
        {
            await AbortAsync(record, mutations, deadline);
            return;
        }

        if (readOnly.Length > 0 && !await ValidateAsync(record, readOnly, commitTs, deadline))
        {
            await AbortAsync(record, mutations, deadline);
            return;
        }

        var answer = await CallAsync(primary, s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Commit, StartTs = record.StartTs, CommitTs = commitTs, PrimaryKey = primary, Keys = [primary] }, deadline);
        if (answer is null)
        {
            Decide(record, SimTxnOutcome.Unknown);
            return;
        }

        if (answer.Code != NoKvErrorCode.Ok)
        {
            // Rolled back by a resolver that saw the primary's lock expire: nothing of it may become visible.
            if (answer.Code != NoKvErrorCode.TxnAborted)
            {
                _sim.Violation($"txn client {Id}: commit of primary of {record.StartTs} answered {answer.Code}: {answer.Detail}");
            }

            Decide(record, SimTxnOutcome.Aborted);
            await RollbackAsync(record, mutations.Skip(1).ToArray(), primary, deadline);
            return;
        }

        Committed(record, commitTs);
        if (abandon)
        {
            _bank.Abandoned++;
            return;
        }

        await CommitSecondariesAsync(record, mutations.Skip(1).ToArray(), commitTs, deadline);
    }

    private async Task PrimaryInOnePhaseAsync(SimTxnRecord record, TxnMutation[] mutations, byte[][] readOnly, bool abandon, int crashPoint, long deadline)
    {
        var primary = mutations[0].Key;
        var primaryShard = _sim.Route(primary);
        var here = mutations.Where(m => primaryShard.Range.Contains(m.Key)).ToArray();
        var others = mutations.Where(m => !primaryShard.Range.Contains(m.Key)).ToArray();
        if (await PrewriteAsync(record, others, deadline) is not { } minCommitTs)
        {
            await AbortAsync(record, mutations, deadline);
            return;
        }

        if (abandon && crashPoint == 0)
        {
            _bank.Abandoned++;
            return;
        }

        if (minCommitTs <= 0 && await TimestampAsync(deadline) is { } issued)
        {
            // A leader that could not tell its floor: a timestamp issued after every lock is in place is above every
            // snapshot that missed them.
            minCommitTs = issued;
        }

        if (minCommitTs <= 0)
        {
            await AbortAsync(record, mutations, deadline);
            return;
        }

        while (_sim.Now < deadline)
        {
            var shard = _sim.Route(primary);
            if (!here.All(m => shard.Range.Contains(m.Key)) || !readOnly.All(k => shard.Range.Contains(k)))
            {
                break;
            }

            var response = await CallOnceAsync(shard, new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.OnePhasePrimary, StartTs = record.StartTs, PrimaryKey = primary, MinCommitTs = minCommitTs, Mutations = here, Keys = readOnly });
            if (response.Code == NoKvErrorCode.Ok)
            {
                Committed(record, response.CommitTs);
                if (abandon)
                {
                    _bank.Abandoned++;
                    return;
                }

                await CommitSecondariesAsync(record, others, response.CommitTs, deadline);
                return;
            }

            if (response.Code == NoKvErrorCode.KeyLocked && response.Lock is { } held)
            {
                await ResolveAsync(held, deadline);
                continue;
            }

            if (!Transient(response.Code) || response.Code == NoKvErrorCode.WrongShard && response.CurrentEpoch != shard.Epoch)
            {
                break;
            }

            await Backoff(shard.Id, response.Code, response.LeaderHint);
        }

        // Refused, given up or moved: decided at the primary first (an earlier attempt may still be on its way).
        await AbortAsync(record, mutations, deadline);
    }

    /// <summary>
    /// Prewrites <paramref name="mutations"/>, one request per shard; the highest read floor the shards answered (0 if
    /// one answered none), or null if a shard refused (a conflict, a rolled-back transaction) or did not answer.
    /// </summary>
    private async Task<long?> PrewriteAsync(SimTxnRecord record, TxnMutation[] mutations, long deadline)
    {
        long highest = 0;
        bool unknownFloor = false;
        var pending = mutations.ToList();
        var primary = ReplicaSimulation.Bytes(record.Primary);
        while (pending.Count > 0)
        {
            if (_sim.Now >= deadline)
            {
                return null;
            }

            var groups = pending.GroupBy(m => _sim.Route(m.Key).Id).Select(g => g.ToArray()).ToArray();
            var answers = await Task.WhenAll(groups.Select(g => CallAsync(g[0].Key, s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Prewrite, StartTs = record.StartTs, PrimaryKey = primary, LockTtlMs = LockTtlMs, Mutations = g }, deadline, g.Select(m => m.Key).ToArray())));
            pending.Clear();
            for (int i = 0; i < groups.Length; i++)
            {
                var answer = answers[i];
                if (answer is null)
                {
                    return null;
                }

                switch (answer.Code)
                {
                    case NoKvErrorCode.Ok:
                        unknownFloor |= answer.MinCommitTs <= 0;
                        highest = Math.Max(highest, answer.MinCommitTs);
                        break;
                    case NoKvErrorCode.WrongShard:
                        pending.AddRange(groups[i]);
                        break;
                    case NoKvErrorCode.KeyLocked when answer.Lock is { } held && held.StartTs != record.StartTs:
                        await ResolveAsync(held, deadline);
                        pending.AddRange(groups[i]);
                        break;
                    case NoKvErrorCode.WriteConflict or NoKvErrorCode.TxnAborted or NoKvErrorCode.SnapshotTooOld or NoKvErrorCode.KeyLocked:
                        return null;
                    default:
                        _sim.Violation($"txn client {Id}: prewrite of {record.StartTs} answered {answer.Code}: {answer.Detail}");
                        return null;
                }
            }
        }

        return unknownFloor ? 0 : highest;
    }

    /// <summary>Validation of the keys read but not written at the commit timestamp: true if none changed.</summary>
    private async Task<bool> ValidateAsync(SimTxnRecord record, byte[][] keys, long commitTs, long deadline)
    {
        var pending = keys.ToList();
        while (pending.Count > 0)
        {
            var groups = pending.GroupBy(k => _sim.Route(k).Id).Select(g => g.ToArray()).ToArray();
            pending.Clear();
            foreach (var group in groups)
            {
                var answer = await CallAsync(group[0], s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Validate, StartTs = record.StartTs, CommitTs = commitTs, Keys = group }, deadline, group);
                if (answer is null)
                {
                    return false;
                }

                switch (answer.Code)
                {
                    case NoKvErrorCode.Ok:
                        break;
                    case NoKvErrorCode.WrongShard:
                        pending.AddRange(group);
                        break;
                    case NoKvErrorCode.WriteConflict or NoKvErrorCode.KeyLocked or NoKvErrorCode.SnapshotTooOld:
                        // A lock met at validation may be a transaction committing below C: the real client resolves it
                        // and conflicts only if it commits; aborting is always safe.
                        _bank.ValidationConflicts++;
                        return false;
                    default:
                        _sim.Violation($"txn client {Id}: validation of {record.StartTs} answered {answer.Code}: {answer.Detail}");
                        return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Gives up a transaction before its commit point: recorded rolled back at the primary first (which answers
    /// Committed if an earlier attempt of a one-phase primary applied), then the other locks removed.
    /// </summary>
    private async Task AbortAsync(SimTxnRecord record, TxnMutation[] mutations, long deadline)
    {
        var primary = mutations[0].Key;
        var decided = await CallAsync(primary, s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Rollback, StartTs = record.StartTs, PrimaryKey = primary, Keys = [primary] }, deadline + OperationBudgetMs);
        if (decided is null || decided.Code is not (NoKvErrorCode.Ok or NoKvErrorCode.TxnAborted) && decided.Status != TxnStatus.Committed)
        {
            Decide(record, SimTxnOutcome.Unknown);
            return;
        }

        if (decided.Status == TxnStatus.Committed)
        {
            Committed(record, decided.CommitTs);
            await CommitSecondariesAsync(record, mutations.Skip(1).ToArray(), decided.CommitTs, deadline + OperationBudgetMs);
            return;
        }

        Decide(record, SimTxnOutcome.Aborted);
        await RollbackAsync(record, mutations.Skip(1).ToArray(), primary, deadline + OperationBudgetMs);
    }

    private async Task RollbackAsync(SimTxnRecord record, TxnMutation[] secondaries, byte[] primary, long deadline)
    {
        foreach (var group in secondaries.GroupBy(m => _sim.Route(m.Key).Id).Select(g => g.Select(m => m.Key).ToArray()))
        {
            // Failures are left to the readers, who roll the locks back through the primary's status.
            await CallAsync(group[0], s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Rollback, StartTs = record.StartTs, Keys = group }, deadline, group);
        }
    }

    private async Task CommitSecondariesAsync(SimTxnRecord record, TxnMutation[] secondaries, long commitTs, long deadline)
    {
        var groups = secondaries.GroupBy(m => _sim.Route(m.Key).Id).Select(g => g.Select(m => m.Key).ToArray()).ToArray();
        // In parallel, and failures left to the readers, who roll the locks forward through the primary.
        await Task.WhenAll(groups.Select(group => CallAsync(group[0], s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Commit, StartTs = record.StartTs, CommitTs = commitTs, Keys = group }, deadline, group)));
    }

    /// <summary>Snapshot reads of <paramref name="keys"/> at <paramref name="ts"/>, one request per shard, locks resolved.</summary>
    public async Task<Dictionary<string, long>?> ReadAtAsync(IReadOnlyList<string> keys, long ts, long deadline, List<TxnLockInfo>? locksMet = null)
    {
        var values = new Dictionary<string, long>();
        var pending = keys.Select(ReplicaSimulation.Bytes).ToList();
        while (pending.Count > 0)
        {
            if (_sim.Now >= deadline)
            {
                return null;
            }

            var groups = pending.GroupBy(k => _sim.Route(k).Id).Select(g => g.ToArray()).ToArray();
            pending.Clear();
            foreach (var group in groups)
            {
                var answer = await CallAsync(group[0], s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.GetMany, StartTs = ts, Keys = group }, deadline, group);
                if (answer is null || answer.Code == NoKvErrorCode.SnapshotTooOld)
                {
                    return null;
                }

                switch (answer.Code)
                {
                    case NoKvErrorCode.Ok:
                        for (int i = 0; i < group.Length; i++)
                        {
                            values[Encoding.UTF8.GetString(group[i])] = SimBank.Decode(answer.Values![i]);
                        }

                        break;
                    case NoKvErrorCode.WrongShard:
                        pending.AddRange(group);
                        break;
                    case NoKvErrorCode.KeyLocked when answer.Lock is { } held:
                        locksMet?.Add(held);
                        await ResolveAsync(held, deadline);
                        pending.AddRange(group);
                        break;
                    default:
                        _sim.Violation($"txn client {Id}: snapshot read at {ts} answered {answer.Code}: {answer.Detail}");
                        return null;
                }
            }
        }

        _sim.CompletedOperations++;
        return values;
    }

    /// <summary>
    /// Resolves a lock met by a read, a prewrite or a commit, as the client library's ResolveLockAsync does: asks the
    /// primary's status (rolling it back if the lock met had expired and the primary holds nothing), then commits or
    /// rolls back the key; waits a moment while the transaction is live.
    /// </summary>
    public async Task ResolveAsync(TxnLockInfo held, long deadline)
    {
        var status = await CallAsync(held.PrimaryKey, s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.CheckStatus, StartTs = held.StartTs, PrimaryKey = held.PrimaryKey, RollbackIfAbsent = held.IsExpired }, deadline);
        bool isPrimary = held.Key.AsSpan().SequenceEqual(held.PrimaryKey);
        switch (status?.Status)
        {
            case TxnStatus.Committed:
                _bank.RolledForward++;
                await CallAsync(held.Key, s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Commit, StartTs = held.StartTs, CommitTs = status.CommitTs, PrimaryKey = isPrimary ? held.Key : null, Keys = [held.Key] }, deadline);
                return;
            case TxnStatus.RolledBack:
                _bank.RolledBack++;
                if (!isPrimary)
                {
                    await CallAsync(held.Key, s => new TxnRequest { Shard = s.Id, Epoch = s.Epoch, Op = TxnOp.Rollback, StartTs = held.StartTs, Keys = [held.Key] }, deadline);
                }

                return;
            default:
                _bank.LiveLocksWaited++;
                await _sim.Delay(20 + _sim.Random.Next(100));
                return;
        }
    }

    /// <summary>
    /// A plain compare-and-swap writing an account's current value back: a version stamped by the shard that every
    /// transaction which read the account before it must conflict with, and that meets transactions' locks (resolved
    /// and retried with the same session sequence, exactly-once).
    /// </summary>
    private async Task RewriteAsync(string account)
    {
        long deadline = _sim.Now + OperationBudgetMs;
        var key = ReplicaSimulation.Bytes(account);
        byte[]? current = null;
        bool read = false;
        while (!read && _sim.Now < deadline)
        {
            var shard = _sim.Route(key);
            var response = await _sim.CallReadAsync(LeaderGuess(shard.Id), new ReadRequest { Shard = shard.Id, Epoch = shard.Epoch, Key = key, Consistency = ReadConsistency.Linearizable });
            if (response.Code == NoKvErrorCode.Ok)
            {
                current = response.Value;
                read = true;
            }
            else if (response.Code == NoKvErrorCode.KeyLocked && response.Lock is { } held)
            {
                await ResolveAsync(held, deadline);
            }
            else
            {
                await Backoff(shard.Id, response.Code, response.LeaderHint);
            }
        }

        if (!read)
        {
            return;
        }

        var session = new ClientSession(_session, ++_sequence);
        var value = current ?? SimBank.Encode(SimBank.InitialBalance);
        while (_sim.Now < deadline)
        {
            var shard = _sim.Route(key);
            var request = new WriteRequest { Shard = shard.Id, Epoch = shard.Epoch, Kind = WriteKind.CompareAndSwap, Key = key, Expected = current, Value = value, Session = session };
            var response = await _sim.CallWriteAsync(LeaderGuess(shard.Id), request);
            if (response.Code == NoKvErrorCode.Ok)
            {
                _sim.CompletedOperations++;
                _bank.Rewrites += response.Succeeded ? 1 : 0;
                return;
            }

            if (response.Code == NoKvErrorCode.KeyLocked && response.Lock is { } held)
            {
                await ResolveAsync(held, deadline);
                continue;
            }

            await Backoff(shard.Id, response.Code, response.LeaderHint);
        }
    }

    private void Committed(SimTxnRecord record, long commitTs)
    {
        if (commitTs <= record.StartTs)
        {
            _sim.Violation($"txn client {Id}: {record} committed at {commitTs}, not after its start");
        }

        record.CommitTs = commitTs;
        Decide(record, SimTxnOutcome.Committed);
        _sim.CompletedOperations++;
    }

    private static void Decide(SimTxnRecord record, SimTxnOutcome outcome) => record.Outcome = outcome;

    /// <summary>
    /// One request to the shard <paramref name="routeKey"/> lies in, retried through leader changes, drops and
    /// crashes until it gets a definite answer: null if none came before the deadline. WrongShard is answered to the
    /// caller when the request's keys no longer lie in one shard (it regroups them); otherwise retried at the new shard.
    /// </summary>
    public async Task<TxnResponse?> CallAsync(byte[] routeKey, Func<ShardDescriptor, TxnRequest> make, long deadline, byte[][]? keys = null)
    {
        while (_sim.Now < deadline)
        {
            var shard = _sim.Route(routeKey);
            if (keys is not null && !keys.All(k => shard.Range.Contains(k)))
            {
                return new TxnResponse { Code = NoKvErrorCode.WrongShard };
            }

            var response = await CallOnceAsync(shard, make(shard));
            if (!Transient(response.Code))
            {
                return response;
            }

            await Backoff(shard.Id, response.Code, response.LeaderHint);
        }

        return null;
    }

    private async Task<TxnResponse> CallOnceAsync(ShardDescriptor shard, TxnRequest request) => await _sim.CallTxnAsync(LeaderGuess(shard.Id), request);

    private static bool Transient(NoKvErrorCode code) => code is NoKvErrorCode.NotLeader or NoKvErrorCode.Timeout or NoKvErrorCode.ProposalDropped or NoKvErrorCode.StoreUnavailable or NoKvErrorCode.WrongShard;

    private StoreId LeaderGuess(ShardId shard) => _leaderGuess.TryGetValue(shard, out var store) ? store : new StoreId(1);

    private async Task Backoff(ShardId shard, NoKvErrorCode code, StoreId? hint)
    {
        if (code == NoKvErrorCode.NotLeader && hint is { } leader)
        {
            _leaderGuess[shard] = leader;
            await _sim.Delay(1);
            return;
        }

        _leaderGuess[shard] = new StoreId(1 + _sim.Random.Next(_sim.Options.Nodes));
        await _sim.Delay(20 + _sim.Random.Next(80));
    }

    internal static string Format(long n) => n.ToString(CultureInfo.InvariantCulture);
}
