using System.Text;

namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// Runs a scenario over a set of seeds. Each seed runs fast without a trace; when one fails, the same
/// seed is replayed with tracing on (the run is deterministic, so the replay fails identically), the full
/// trace is written to a file and the failure is rethrown with the seed, the options, the replay command
/// and the trace tail.
/// </summary>
/// <remarks>
/// After the scenario body, every run ends with <see cref="SimCluster.HealAndCheckLiveness"/>: the
/// network heals, crashed members restart, and every acknowledged write must reach every member.
/// </remarks>
public static class SimulationRunner
{
    /// <summary>Lines of trace included in the exception message (the file has the rest).</summary>
    private const int TailLines = 120;

    public static void Run(string scenario, SimOptions options, int ciSeeds, Action<SimCluster> body)
    {
        foreach (var seed in SeedSet.Seeds(ciSeeds))
        {
            RunSeed(scenario, options with { Seed = seed, Trace = false }, body);
        }
    }

    /// <summary>Runs one seed; throws <see cref="SimulationFailureException"/> describing any failure.</summary>
    public static SimCluster RunSeed(string scenario, SimOptions options, Action<SimCluster> body)
    {
        var failure = Execute(options, body, out var cluster);
        if (failure is null)
        {
            return cluster;
        }

        var replayFailure = options.Trace ? failure : Execute(options with { Trace = true }, body, out cluster);
        var tracePath = Path.Combine(
            AppContext.BaseDirectory,
            "raft-sim-traces",
            $"{Sanitize(scenario)}-n{options.Nodes}-seed{options.Seed}.trace");
        cluster.Recorder.WriteTo(tracePath);

        var message = new StringBuilder()
            .AppendLine($"Simulation '{scenario}' failed with seed {options.Seed} ({options.Nodes} nodes) at virtual t={cluster.Now}ms:")
            .AppendLine($"  {failure.GetType().Name}: {failure.Message}")
            .AppendLine(replayFailure is null
                ? "  WARNING: the traced replay did not fail: the run is not deterministic (a harness bug)."
                : replayFailure.Message == failure.Message ? "  Replay with tracing reproduced the failure." : $"  Replay failed differently: {replayFailure.Message}")
            .AppendLine($"  Options: {options}")
            .AppendLine($"  Replay: NOKV_RAFT_SIM_SEED={options.Seed} NOKV_RAFT_SIM_TRACE=full dotnet test tests/NoKv.Raft.Tests -c Release --filter \"FullyQualifiedName~{scenario}\"")
            .AppendLine($"  Full trace: {tracePath}")
            .AppendLine($"  Last {TailLines} trace lines:")
            .Append(cluster.Recorder.Tail(TailLines))
            .ToString();
        throw new SimulationFailureException(message, failure);
    }

    private static Exception? Execute(SimOptions options, Action<SimCluster> body, out SimCluster cluster)
    {
        cluster = null!;
        try
        {
            cluster = new SimCluster(options);
            body(cluster);
            cluster.HealAndCheckLiveness();
            return null;
        }
        catch (Exception ex) when (cluster is not null)
        {
            cluster.Trace($"FAILED: {ex.GetType().Name}: {ex.Message}");
            return ex;
        }
    }

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!char.IsLetterOrDigit(chars[i]) && chars[i] != '-')
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }
}
