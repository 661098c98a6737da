using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation.Harness;

/// <summary>A failing run must come back with everything needed to replay it.</summary>
public sealed class SimulationRunnerTests
{
    [Fact]
    public void FailureCarriesSeedReplayCommandAndTrace()
    {
        var ex = Assert.Throws<SimulationFailureException>(() => SimulationRunner.RunSeed(
            "runner-self-test",
            new SimOptions { Nodes = 3, Seed = 7 },
            c =>
            {
                c.One("k", 3, retry: true);
                throw new SafetyViolationException("self-test", $"deliberate failure at t={c.Now}");
            }));

        Assert.Contains("seed 7 (3 nodes)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("NOKV_RAFT_SIM_SEED=7", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Replay with tracing reproduced the failure.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("recv ", ex.Message, StringComparison.Ordinal);
        Assert.IsType<SafetyViolationException>(ex.InnerException);

        var path = ex.Message.Split('\n').Single(l => l.Contains("Full trace: ", StringComparison.Ordinal)).Split("Full trace: ")[1].Trim();
        var lines = File.ReadAllLines(path);
        Assert.Contains(lines, l => l.Contains("propose ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("tick ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("FAILED: SafetyViolationException", StringComparison.Ordinal));
    }
}
