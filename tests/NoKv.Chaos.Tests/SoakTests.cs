using NoKv.Chaos.Soak;
using NoKv.Chaos.Workload;
using Xunit;

namespace NoKv.Chaos.Tests;

/// <summary>The soak's growth verdict and its key generations.</summary>
public sealed class SoakTests
{
    [Fact]
    public void FlatSeriesWithNoiseAndRestartsAreNotFlagged()
    {
        // RSS around 300 MiB, one minute with store 2 down (a kill) and one at 120 MiB (just restarted); disk flat.
        var minutes = Enumerable.Range(1, 12).Select(m => Minute(m,
            rss: [300 + (m % 3 * 5), m == 8 ? -1 : m == 9 ? 120 : 310, 305],
            disk: [40 + (m % 2), 41, 39],
            p99: m == 10 ? 900 : 30)).ToList();

        var findings = GrowthCheck.Analyze(minutes, 25);

        Assert.DoesNotContain(findings, f => f.Flagged);
        Assert.Contains(findings, f => f.Series == "store 2 RSS");
        Assert.Contains(findings, f => f.Series == "p99 latency");
    }

    [Fact]
    public void SteadyGrowthIsFlaggedPerSeries()
    {
        // Store 1's RSS grows 40 MiB a minute; store 3's data directory grows 10 MiB a minute; the p99 climbs.
        var minutes = Enumerable.Range(1, 12).Select(m => Minute(m,
            rss: [200 + (40 * m), 300, 300],
            disk: [40, 40, 40 + (10 * m)],
            p99: 20 * m,
            ops: 60000 - (4000 * m))).ToList();

        var flagged = GrowthCheck.Analyze(minutes, 25).Where(f => f.Flagged).Select(f => f.Series).ToList();

        Assert.Equal(["store 1 RSS", "store 3 disk", "p99 latency", "operations per minute"], flagged);
    }

    [Fact]
    public void SmallGrowthBelowTheFloorIsNoise()
    {
        // +60 % but only 12 MiB: below the RSS floor.
        var minutes = Enumerable.Range(1, 9).Select(m => Minute(m, rss: [m <= 6 ? 20 : 32], disk: [1], p99: 5)).ToList();
        Assert.DoesNotContain(GrowthCheck.Analyze(minutes, 25), f => f.Flagged);
    }

    [Fact]
    public void KeyGenerationsStayOnTheirShardsAndDoNotOverlap()
    {
        var keys = KeySet.Uniform(4, 6).WithEpochs(3);

        Assert.Equal(3, keys.Epochs);
        Assert.Equal(72, keys.Keys.Length);
        Assert.Equal(72, keys.Keys.Select(k => Convert.ToHexString(k)).Distinct().Count());
        for (int shard = 0; shard < 4; shard++)
        {
            var seen = new HashSet<int>();
            for (int epoch = 0; epoch < 3; epoch++)
            {
                int[] mine = keys.KeysOf(shard, epoch);
                Assert.Equal(6, mine.Length);
                Assert.All(mine, k => Assert.Equal(shard, keys.ShardOfKey[k]));
                Assert.All(mine, k => Assert.True(seen.Add(k)));
            }

            Assert.Equal(keys.KeysOf(shard, 2), keys.KeysOf(shard, 99)); // past the last generation: stays on it
        }

        // Same first byte (same shard's range) as the generation-less key it copies.
        var plain = KeySet.Uniform(4, 6);
        Assert.Equal(plain.Keys[5][0], keys.Keys[24 + 5][0]);
    }

    private static SoakSample Minute(int minute, double[] rss, double[] disk, double p99, long ops = 60000) =>
        new(minute, ops, 0, 3, p99, p99 * 2, rss, disk, 100, "");
}
