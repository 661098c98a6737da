using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// Callers of the timestamp oracle in the controller-group simulation. Several oracle front-ends (one per simulated
/// silo, each with its own skewed clock) serve them; now and then a front-end is replaced by a fresh one (a silo
/// restart or a duplicate activation), while the old one finishes what it holds. Checked:
/// - real-time order: a batch is above every timestamp returned to anyone before its request was made;
/// - no timestamp is handed out twice (no two batches overlap);
/// - the persisted high-water mark, read at the end, is at or above every timestamp handed out.
/// </summary>
internal sealed class SimTimestampCallers
{
    private const long CallBudgetMs = 15_000;
    private readonly ReplicaSimulation _sim;
    private readonly TimestampOracle[] _oracles;
    private readonly List<TimestampBatch> _issued = new();
    private long _maxReturned;
    private int _replacements;

    public SimTimestampCallers(ReplicaSimulation sim)
    {
        _sim = sim;
        _oracles = new TimestampOracle[sim.Options.TimestampOracles];
        for (int i = 0; i < _oracles.Length; i++)
        {
            _oracles[i] = NewOracle();
        }
    }

    public long Issued => _issued.Count;

    public long Rounds { get; private set; }

    public int Replacements => _replacements;

    public int Unfinished { get; private set; }

    public void Start(long untilMs)
    {
        for (int i = 0; i < _sim.Options.TimestampCallers; i++)
        {
            Unfinished++;
            _ = RunAsync(untilMs);
        }

        if (_oracles.Length > 0)
        {
            ScheduleReplacement(untilMs);
        }
    }

    /// <summary>Checks the ranges never overlap and the persisted mark covers them all (run after the quiet period).</summary>
    public async Task CheckFinalAsync()
    {
        _issued.Sort((a, b) => a.First.CompareTo(b.First));
        for (int i = 1; i < _issued.Count; i++)
        {
            if (_issued[i].First <= _issued[i - 1].Last)
            {
                _sim.Violation($"timestamp batches {_issued[i - 1]} and {_issued[i]} overlap");
            }
        }

        var group = NewGroupClient();
        var row = await group.ReadAsync(ControllerRows.Timestamps);
        long highWater = row is null ? 0 : TimestampOracleRow.Decode(row);
        if (highWater < _maxReturned)
        {
            _sim.Violation($"persisted high-water mark {highWater} is below the largest timestamp handed out, {_maxReturned}");
        }
    }

    private async Task RunAsync(long untilMs)
    {
        while (_sim.Now < untilMs)
        {
            var oracle = _oracles[_sim.Random.Next(_oracles.Length)];
            int count = 1 + _sim.Random.Next(4);
            long floor = _maxReturned;
            try
            {
                var batch = await oracle.GetTimestampsAsync(count);
                _sim.CompletedOperations++;
                if (batch.Count != count || batch.First <= floor)
                {
                    _sim.Violation($"timestamp batch {batch} for {count}, requested after {floor} was returned");
                }

                _issued.Add(batch);
                _maxReturned = Math.Max(_maxReturned, batch.Last);
            }
            catch (NoKv.Abstractions.Errors.NoKvTimeoutException)
            {
                // No quorum within the budget: allowed, the oracle only has to be safe.
            }

            await _sim.Delay(1 + _sim.Random.Next(15));
        }

        Unfinished--;
    }

    private void ScheduleReplacement(long untilMs)
    {
        _sim.Schedule(2_000 + _sim.Random.Next(6_000), () =>
        {
            if (_sim.Now >= untilMs)
            {
                return;
            }

            int at = _sim.Random.Next(_oracles.Length);
            Rounds += _oracles[at].Rounds;
            _oracles[at] = NewOracle();
            _replacements++;
            ScheduleReplacement(untilMs);
        });
    }

    public void CollectStats()
    {
        foreach (var oracle in _oracles)
        {
            Rounds += oracle.Rounds;
        }
    }

    private TimestampOracle NewOracle() => new(NewGroupClient());

    private ControllerGroupClient NewGroupClient() =>
        new(new SimControllerTransport(_sim, _sim.Random.Next(-3_000, 3_000)), _sim.Shard.Replicas, _sim.NextSeed(), Timeout.InfiniteTimeSpan, TimeSpan.FromMilliseconds(CallBudgetMs));
}
