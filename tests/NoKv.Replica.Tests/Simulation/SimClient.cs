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
    private StoreId _leaderGuess = new(1);

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

            await _sim.Delay(1 + _sim.Random.Next(20));
        }

        Finished = true;
    }

    /// <summary>A linearizable read through whichever store leads; null if no answer came within the budget.</summary>
    public async Task<long?> ReadAsync(string key, long deadline)
    {
        var request = new ReadRequest { Shard = _sim.Shard.Id, Epoch = _sim.Shard.Epoch, Key = ReplicaSimulation.Bytes(key), Consistency = ReadConsistency.Linearizable };
        while (_sim.Now < deadline)
        {
            var response = await _sim.CallReadAsync(_leaderGuess, request);
            if (response.Code == NoKvErrorCode.Ok)
            {
                _sim.CompletedOperations++;
                return response.Value is null ? 0 : long.Parse(Encoding.UTF8.GetString(response.Value), CultureInfo.InvariantCulture);
            }

            await Backoff(response.Code, response.LeaderHint);
        }

        return null;
    }

    public void CheckFinal(string key, long value) => Observe(key, value);

    private async Task IncrementAsync(string key)
    {
        long current = _model[key];
        var request = new WriteRequest
        {
            Shard = _sim.Shard.Id,
            Epoch = _sim.Shard.Epoch,
            Kind = WriteKind.CompareAndSwap,
            Key = ReplicaSimulation.Bytes(key),
            Expected = current == 0 ? null : Value(current),
            Value = Value(current + 1),
            Session = new ClientSession(_session, ++_sequence),
        };

        long deadline = _sim.Now + OperationBudgetMs;
        while (_sim.Now < deadline)
        {
            var response = await _sim.CallWriteAsync(_leaderGuess, request);
            if (response.Code == NoKvErrorCode.Ok)
            {
                _sim.CompletedOperations++;
                if (!response.Succeeded)
                {
                    _sim.Violation($"client {Id}: CAS {key} {current}->{current + 1} (session seq {request.Session.Sequence}) failed although the client owns the key; a retry was applied twice or a write was lost");
                }

                _model[key] = current + 1;
                _uncertain.Remove(key);
                return;
            }

            if (response.Code is not (NoKvErrorCode.NotLeader or NoKvErrorCode.Timeout or NoKvErrorCode.ProposalDropped or NoKvErrorCode.StoreUnavailable))
            {
                _sim.Violation($"client {Id}: CAS {key} answered {response.Code}: {response.Detail}");
                return;
            }

            await Backoff(response.Code, response.LeaderHint);
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

    private async Task Backoff(NoKvErrorCode code, StoreId? hint)
    {
        if (code == NoKvErrorCode.NotLeader && hint is { } leader)
        {
            _leaderGuess = leader;
            await _sim.Delay(1);
            return;
        }

        _leaderGuess = new StoreId(1 + _sim.Random.Next(_sim.Options.Nodes));
        await _sim.Delay(20 + _sim.Random.Next(80));
    }

    private static byte[] Value(long n) => Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture));
}
