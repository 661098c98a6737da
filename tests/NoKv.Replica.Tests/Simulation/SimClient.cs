using System.Globalization;
using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// A closed-loop client of the simulated group. It owns its keys and moves each through 1, 2, 3, ... by
/// compare-and-swap, retrying a write with the same session sequence (so exactly-once must hold) until it gets an
/// answer or gives up. Its model of each key is checked by every read and at the end:
/// - a read returns exactly the model's value (or, after an operation whose outcome is unknown, either candidate,
///   which the read then settles);
/// - an acknowledged CAS by the owner with the model's expected value must report success;
/// - the final value equals the model: nothing acknowledged is lost, nothing is applied twice.
/// </summary>
internal sealed class SimClient
{
    private const long OperationBudgetMs = 12_000;
    private readonly ReplicaSimulation _sim;
    private readonly Guid _session;
    private readonly Dictionary<string, long> _model = new();

    // Keys whose last write's outcome is unknown: the value is the model's or one more.
    private readonly HashSet<string> _uncertain = new();
    private long _sequence;

    // The store each shard's leader was last seen on (shards appear as the simulation splits them).
    private readonly Dictionary<ShardId, StoreId> _leaderGuess = new();

    public SimClient(ReplicaSimulation sim, int id)
    {
        _sim = sim;
        Id = id;
        var sessionBytes = new byte[16];
        sim.Random.NextBytes(sessionBytes);
        _session = new Guid(sessionBytes);
        Keys = Enumerable.Range(0, sim.Options.KeysPerClient).Select(k => $"c{id}-k{k}").ToArray();
        foreach (var key in Keys)
        {
            _model[key] = 0;
        }
    }

    public int Id { get; }

    public string[] Keys { get; }

    public bool Finished { get; private set; }

    public async Task RunAsync(long untilMs)
    {
        while (_sim.Now < untilMs)
        {
            var key = Keys[_sim.Random.Next(Keys.Length)];
            if (_uncertain.Contains(key) || _sim.Random.Next(4) == 0)
            {
                if (await ReadAsync(key, _sim.Now + OperationBudgetMs) is { } value)
                {
                    Observe(key, value);
                }
            }
            else
            {
                await IncrementAsync(key);
            }

            await _sim.Delay(1 + _sim.Random.Next(_sim.Options.ClientPauseMs));
        }

        Finished = true;
    }

    /// <summary>A linearizable read through whichever store leads; null if no answer came within the budget.</summary>
    public async Task<long?> ReadAsync(string key, long deadline)
    {
        var bytes = ReplicaSimulation.Bytes(key);
        while (_sim.Now < deadline)
        {
            // Routed by the simulation's map at every attempt, as the client SDK refreshes its map on WrongShard.
            var shard = _sim.Route(bytes);
            var request = new ReadRequest { Shard = shard.Id, Epoch = shard.Epoch, Key = bytes, Consistency = ReadConsistency.Linearizable };
            var response = await _sim.CallReadAsync(LeaderGuess(shard.Id), request);
            if (response.Code == NoKvErrorCode.Ok)
            {
                _sim.CompletedOperations++;
                return response.Value is null ? 0 : long.Parse(Encoding.UTF8.GetString(response.Value), CultureInfo.InvariantCulture);
            }

            await Backoff(shard.Id, response.Code, response.LeaderHint);
        }

        return null;
    }

    public void CheckFinal(string key, long value) => Observe(key, value);

    /// <summary>The model's value of <paramref name="key"/>: what the last acknowledged write (or a settling read) made it.</summary>
    public long Model(string key) => _model[key];

    private async Task IncrementAsync(string key)
    {
        long current = _model[key];
        var bytes = ReplicaSimulation.Bytes(key);

        // One session sequence for every attempt, whichever shard it reaches: a write that applied before its shard
        // split and is retried at the new shard must get its recorded outcome, not apply again.
        var session = new ClientSession(_session, ++_sequence);
        long deadline = _sim.Now + OperationBudgetMs;
        while (_sim.Now < deadline)
        {
            var shard = _sim.Route(bytes);
            var request = new WriteRequest
            {
                Shard = shard.Id,
                Epoch = shard.Epoch,
                Kind = WriteKind.CompareAndSwap,
                Key = bytes,
                Expected = current == 0 ? null : Value(current),
                Value = Value(current + 1),
                Session = session,
            };
            var response = await _sim.CallWriteAsync(LeaderGuess(shard.Id), request);
            if (response.Code == NoKvErrorCode.Ok)
            {
                _sim.CompletedOperations++;
                if (_sim.OracleDown)
                {
                    _sim.WritesWhileOracleDown++;
                }

                if (!response.Succeeded)
                {
                    _sim.Violation($"client {Id}: CAS {key} {current}->{current + 1} (session seq {request.Session.Sequence}) failed although the client owns the key; a retry was applied twice or a write was lost");
                }

                _model[key] = current + 1;
                _uncertain.Remove(key);
                return;
            }

            if (response.Code is not (NoKvErrorCode.NotLeader or NoKvErrorCode.Timeout or NoKvErrorCode.ProposalDropped or NoKvErrorCode.StoreUnavailable or NoKvErrorCode.WrongShard))
            {
                _sim.Violation($"client {Id}: CAS {key} answered {response.Code}: {response.Detail}");
                return;
            }

            await Backoff(shard.Id, response.Code, response.LeaderHint);
        }

        // Gave up: the write may still apply. The next operation on the key reads first.
        _uncertain.Add(key);
    }

    private void Observe(string key, long value)
    {
        long model = _model[key];
        if (_uncertain.Remove(key))
        {
            if (value == model + 1)
            {
                _model[key] = value;
                return;
            }
        }

        if (value != model)
        {
            _sim.Violation($"client {Id}: read {key} = {value}, the model says {model}");
            _model[key] = value;
        }
    }

    private StoreId LeaderGuess(ShardId shard) => _leaderGuess.TryGetValue(shard, out var store) ? store : new StoreId(1);

    private async Task Backoff(ShardId shard, NoKvErrorCode code, StoreId? hint)
    {
        if (code == NoKvErrorCode.NotLeader && hint is { } leader)
        {
            _leaderGuess[shard] = leader;
            await _sim.Delay(1);
            return;
        }

        if (code == NoKvErrorCode.WrongShard)
        {
            _sim.WrongShardAnswers++;
        }

        _leaderGuess[shard] = new StoreId(1 + _sim.Random.Next(_sim.Options.Nodes));
        await _sim.Delay(20 + _sim.Random.Next(80));
    }

    private static byte[] Value(long n) => Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture));
}
