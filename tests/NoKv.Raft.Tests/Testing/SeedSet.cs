using System.Globalization;

namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// Which seeds a scenario runs. CI runs a small fixed set; two environment variables widen or narrow it:
/// <list type="bullet">
/// <item><c>NOKV_RAFT_SOAK_SEEDS=N</c> (optionally <c>NOKV_RAFT_SOAK_FIRST=F</c>): seeds F .. F+N-1 (a soak).</item>
/// <item><c>NOKV_RAFT_SIM_SEED=S</c>: only seed S (replaying a failure).</item>
/// </list>
/// </summary>
public static class SeedSet
{
    /// <summary>
    /// Seeds per scenario and node count in CI. A seed of every scenario costs about 0.6 s on one core of
    /// the 2-core build machine, so 32 seeds keep the simulation near 20-40 s of the project's 3-minute
    /// budget; the soak covers the rest.
    /// </summary>
    public const int CiCount = 32;

    public static IReadOnlyList<ulong> Seeds(int ciCount)
    {
        var only = Environment.GetEnvironmentVariable("NOKV_RAFT_SIM_SEED");
        if (!string.IsNullOrWhiteSpace(only))
        {
            return [ulong.Parse(only, CultureInfo.InvariantCulture)];
        }

        var soak = Environment.GetEnvironmentVariable("NOKV_RAFT_SOAK_SEEDS");
        if (!string.IsNullOrWhiteSpace(soak))
        {
            var count = int.Parse(soak, CultureInfo.InvariantCulture);
            var firstText = Environment.GetEnvironmentVariable("NOKV_RAFT_SOAK_FIRST");
            var first = string.IsNullOrWhiteSpace(firstText) ? 1UL : ulong.Parse(firstText, CultureInfo.InvariantCulture);
            return Range(first, count);
        }

        return Range(1, ciCount);
    }

    private static ulong[] Range(ulong first, int count)
    {
        var seeds = new ulong[count];
        for (var i = 0; i < count; i++)
        {
            seeds[i] = first + (ulong)i;
        }

        return seeds;
    }
}
