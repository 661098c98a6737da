using System.Globalization;
using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// Transactional snapshot reads beside the clients' plain compare-and-swaps (which the shards stamp themselves): each
/// read takes a timestamp T from the simulated oracle and reads one client key at T from the shard's leader. Checked:
/// a snapshot, once served, never changes. Every served (key, T, value) is read again at T later, during the faults
/// now and then and all of them after the quiet period; a different value means a version landed at or below T after
/// a read at T was served: the promise of the leader's in-memory read floor was broken (across a leader change, a
/// crash, a split or a merge). Also real-time order: a write its owner had acknowledged before T was asked for must be
/// in the snapshot at T (its stamp must not run past what the oracle issued before the acknowledgement).
/// </summary>
internal sealed class SimSnapshotReader
{
    private const long OperationBudgetMs = 12_000;
    private readonly ReplicaSimulation _sim;
    private readonly int _id;
    private readonly Dictionary<ShardId, StoreId> _leaderGuess = new();
    private readonly List<(string Key, long Ts, string? Value)> _served;

    public SimSnapshotReader(ReplicaSimulation sim, int id, List<(string Key, long Ts, string? Value)> served)
    {
        _sim = sim;
        _id = id;
        _served = served;
    }

    public bool Finished { get; private set; }

    /// <summary>What the reader is waiting on, for the report of a reader that did not finish.</summary>
    public string Waiting { get; private set; } = "nothing";

    public long Reads { get; private set; }

    public long Rereads { get; private set; }

    /// <summary>Reads and re-reads refused with SnapshotTooOld (below an anchor's safe point, or in an unanchored shard).</summary>
    public long Refused { get; private set; }

    public async Task RunAsync(long untilMs)
    {
        var keys = _sim.ClientKeys.ToArray();
        while (_sim.Now < untilMs)
        {
            if (_served.Count > 0 && _sim.Random.Next(3) == 0)
            {
                var (key, ts, value) = _served[_sim.Random.Next(_served.Count)];
                await CheckAgainAsync(key, ts, value, _sim.Now + OperationBudgetMs);
            }
            else
            {
                var key = keys[_sim.Random.Next(keys.Length)];
                long acknowledged = _sim.AcknowledgedValue(key);
                long? ts = null;
                while (ts is null && _sim.Now < untilMs + OperationBudgetMs)
                {
                    try
                    {
                        Waiting = "the oracle";
                        ts = await _sim.OracleTimestampsAsync(null, 1);
                    }
                    catch (TimeoutException)
                    {
                    }
                }

                // Writes acknowledged while the call waited count too: nothing else runs between the oracle's answer and
                // this line (one simulation event runs to quiescence), so they were acknowledged before T was issued.
                acknowledged = _sim.AcknowledgedValue(key);
                if (ts is { } t && await ReadAtAsync(key, t, _sim.Now + OperationBudgetMs) is { } read)
                {
                    Reads++;
                    _served.Add((key, t, read.Value));
                    long seen = read.Value is null ? 0 : long.Parse(read.Value, CultureInfo.InvariantCulture);
                    if (seen < acknowledged)
                    {
                        _sim.Violation($"snapshot reader {_id}: {key} at {t} read {seen}, but its owner had {acknowledged} acknowledged before the timestamp was asked for: a stamp ran past the oracle");
                    }
                }
            }

            Waiting = "a pause";
            await _sim.Delay(1 + _sim.Random.Next(20));
        }

        Finished = true;
    }

    /// <summary>Reads <paramref name="key"/> at <paramref name="ts"/> again and reports a violation if the answer changed.</summary>
    public async Task CheckAgainAsync(string key, long ts, string? expected, long deadline)
    {
        if (await ReadAtAsync(key, ts, deadline) is not { } again)
        {
            return;
        }

        Rereads++;
        if (again.Value != expected)
        {
            _sim.Violation($"snapshot reader {_id}: {key} at {ts} read {expected ?? "(absent)"} earlier and {again.Value ?? "(absent)"} now: a version landed at or below a served snapshot");
        }
    }

    /// <summary>A snapshot read through whichever store leads; null if no answer came before the deadline.</summary>
    private async Task<(string? Value, bool Ok)?> ReadAtAsync(string key, long ts, long deadline)
    {
        var bytes = ReplicaSimulation.Bytes(key);
        while (_sim.Now < deadline)
        {
            var shard = _sim.Route(bytes);
            // Half the reads (by the timestamp's parity, so the simulation's random draws stay as they were) go as a
            // multi-key read naming the key twice: it must promise and wait exactly as a single Get does.
            bool many = (ts & 1) == 1;
            var request = many
                ? new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.GetMany, StartTs = ts, Keys = [bytes, bytes] }
                : new TxnRequest { Shard = shard.Id, Epoch = shard.Epoch, Op = TxnOp.Get, StartTs = ts, Key = bytes };
            Waiting = string.Create(CultureInfo.InvariantCulture, $"a read of {key} at {ts} from store {LeaderGuess(shard.Id)} (shard {shard.Id} epoch {shard.Epoch}) since t={_sim.Now}ms");
            var response = await _sim.CallTxnAsync(LeaderGuess(shard.Id), request);
            Waiting = string.Create(CultureInfo.InvariantCulture, $"a retry after {response.Code} at t={_sim.Now}ms");
            if (response.Code == NoKvErrorCode.Ok)
            {
                _sim.CompletedOperations++;
                var value = many ? response.Values![0] : response.Value;
                if (many && !Equal(response.Values![1], value))
                {
                    _sim.Violation($"snapshot reader {_id}: a multi-key read of {key} twice at {ts} answered two different values");
                }

                return (value is null ? null : Encoding.UTF8.GetString(value), true);
            }

            if (response.Code == NoKvErrorCode.SnapshotTooOld)
            {
                // Refused, never answered differently: a shard anchored after unanchored plain writes refuses every
                // timestamp issued before the anchor (a transaction would restart above it).
                Refused++;
                return null;
            }

            if (response.Code is not (NoKvErrorCode.NotLeader or NoKvErrorCode.Timeout or NoKvErrorCode.ProposalDropped or NoKvErrorCode.StoreUnavailable or NoKvErrorCode.WrongShard))
            {
                _sim.Violation(string.Create(CultureInfo.InvariantCulture, $"snapshot reader {_id}: read of {key} at {ts} answered {response.Code}: {response.Detail}"));
                return null;
            }

            if (response.Code == NoKvErrorCode.NotLeader && response.LeaderHint is { } leader)
            {
                _leaderGuess[shard.Id] = leader;
                await _sim.Delay(1);
                continue;
            }

            _leaderGuess[shard.Id] = new StoreId(1 + _sim.Random.Next(_sim.Options.Nodes));
            await _sim.Delay(20 + _sim.Random.Next(80));
        }

        return null;
    }

    private static bool Equal(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

    private StoreId LeaderGuess(ShardId shard) => _leaderGuess.TryGetValue(shard, out var store) ? store : new StoreId(1);
}
