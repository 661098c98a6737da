namespace NoKv.Replica.Tests.Support;

/// <summary>
/// Seeds for the decoders' fuzz tests: a fixed list in CI, so a failure reproduces from the test's name;
/// <c>NOKV_FUZZ_SEEDS=N</c> runs seeds 1 to N instead (a longer soak), e.g.
/// <c>NOKV_FUZZ_SEEDS=2000 dotnet test tests/NoKv.Replica.Tests -c Release --filter FullyQualifiedName~Fuzz</c>.
/// </summary>
public static class FuzzSeeds
{
    private const int DefaultCount = 24;

    public static IEnumerable<object[]> All()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("NOKV_FUZZ_SEEDS"), out int n) && n > 0 ? n : DefaultCount;
        for (int seed = 1; seed <= count; seed++)
        {
            yield return [seed];
        }
    }
}
