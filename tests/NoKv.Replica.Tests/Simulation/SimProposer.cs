using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Core;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// Proposes a topology command (split, prepare, commit, rollback) the way the controller's operations do: to whichever
/// replica the last answer named as leader (else a random one), retried through leader changes, crashes and lost
/// answers, each attempt preceded by a look at the committed state, so an applied command is never proposed again.
/// </summary>
internal sealed class SimProposer
{
    private readonly ReplicaSimulation _sim;
    private StoreId _leaderGuess = new(1);

    public SimProposer(ReplicaSimulation sim) => _sim = sim;

    /// <summary>Proposals made (attempts that reached a replica).</summary>
    public int Proposals { get; private set; }

    /// <summary>
    /// Until <paramref name="done"/> holds (true) or <paramref name="judge"/> decides (its verdict) or
    /// <paramref name="budgetMs"/> passes (a violation, false): proposes through the guessed leader; a null verdict
    /// retries.
    /// </summary>
    public async Task<bool> RunAsync(ShardId shard, long budgetMs, string what, Func<bool> done, Func<ReplicaCore, Task<WriteResponse>> propose, Func<ReplicaCore, WriteResponse, bool?> judge)
    {
        long deadline = _sim.Now + budgetMs;
        while (_sim.Now < deadline)
        {
            if (done())
            {
                return true;
            }

            if (_sim.Node(_leaderGuess).CoreOf(shard) is not { } core)
            {
                await Backoff(null);
                continue;
            }

            Proposals++;
            var response = await propose(core);
            if (judge(core, response) is { } verdict)
            {
                return verdict;
            }

            await Backoff(response.Code switch
            {
                NoKvErrorCode.Ok => _leaderGuess,
                NoKvErrorCode.NotLeader => response.LeaderHint,
                _ => null,
            });
        }

        _sim.Violation($"{what} did not complete within {budgetMs} ms");
        return false;
    }

    private async Task Backoff(StoreId? hint)
    {
        if (hint is { } leader)
        {
            _leaderGuess = leader;
            await _sim.Delay(1);
            return;
        }

        _leaderGuess = new StoreId(1 + _sim.Random.Next(_sim.Options.Nodes));
        await _sim.Delay(20 + _sim.Random.Next(80));
    }
}
