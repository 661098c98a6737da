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

    // Stores 2 and 3's RSS (MiB) in the 45-minute soak of docs/chaos.md, minute by minute, as printed.
    private static readonly double[] Soak45Store2 = [169, 191, 204, 213, 223, 230, 262, 289, 307, 311, 317, 341, 336, 337, 348, 370, 376, 384, 386, 380, 383, 385, 391, 393, 397, 392, 393, 396, 402, 397, 397, 397, 400, 402, 401, 402, 402, 418, 467, 447, 451, 450, 450, 451, 452];
    private static readonly double[] Soak45Store3 = [164, 193, 220, 247, 173, 203, 187, 216, 251, 270, 197, 233, 203, 213, 248, 303, 317, 372, 365, 360, 221, 195, 241, 254, 307, 196, 244, 280, 284, 291, 289, 292, 309, 317, 324, 205, 258, 274, 284, 313, 318, 326, 197, 269, 216];

    [Fact]
    public void TheClimbOfAProcessThatLivedThroughTheSoakIsFlaggedByItsSlopeWhereTheThirdsMissedIt()
    {
        // Store 1 restarted every 7 minutes (no process lived long enough), store 2 one process throughout (169 -> 452
        // MiB), store 3 a second process from minute 21 on (its figures fall and rise with GC and faults).
        var minutes = Enumerable.Range(1, 45).Select(m => Minute(m,
            rss: [200 + (m % 7 * 10), Soak45Store2[m - 1], Soak45Store3[m - 1]],
            disk: [10, 10, 10],
            p99: 40,
            pids: [1000 + (m / 7), 2000, m <= 20 ? 3000 : 3001])).ToList();

        Assert.DoesNotContain(GrowthCheck.Analyze(minutes, 25), f => f.Flagged && f.Series.EndsWith("RSS", StringComparison.Ordinal));

        var slopes = GrowthCheck.RssSlopes(minutes, 1.0);
        Assert.Equal([2, 3], slopes.Select(s => s.Store));
        var store2 = slopes[0];
        Assert.Equal((2000, 1, 45, 16), (store2.Pid, store2.LivedFrom, store2.LivedTo, store2.FitFrom));
        Assert.True(store2.Flagged);
        Assert.InRange(store2.MiBPerMinute, 2.0, 3.5);
        var store3 = slopes[1];
        Assert.Equal((3001, 21, 45), (store3.Pid, store3.LivedFrom, store3.LivedTo));
        Assert.False(store3.Flagged);
    }

    [Fact]
    public void AProcessThatWarmsUpThenLevelsOffIsNotFlaggedByItsSlope()
    {
        // 150 -> 300 MiB over the first 10 minutes, then a GC sawtooth of 300-380 MiB for 50 minutes.
        var minutes = Enumerable.Range(1, 60).Select(m => Minute(m,
            rss: [m <= 10 ? 150 + (15 * m) : 300 + (m % 5 * 20)],
            disk: [10],
            p99: 40,
            pids: [42])).ToList();

        var slope = Assert.Single(GrowthCheck.RssSlopes(minutes, 1.0));
        Assert.False(slope.Flagged);
        Assert.InRange(slope.MiBPerMinute, -0.5, 0.5);

        // The same process still climbing 2 MiB a minute after its warm-up is flagged.
        var climbing = minutes.Select(m => m with { RssMiB = [m.RssMiB[0] + (2 * m.Minute)] }).ToList();
        Assert.True(Assert.Single(GrowthCheck.RssSlopes(climbing, 1.0)).Flagged);
    }

    [Fact]
    public void NoSlopeIsJudgedWithoutProcessIds()
    {
        var minutes = Enumerable.Range(1, 12).Select(m => Minute(m, rss: [100 + (50 * m)], disk: [1], p99: 5)).ToList();
        Assert.Empty(GrowthCheck.RssSlopes(minutes, 1.0));
    }

    [Fact]
    public void ARssClimbOfFileBackedAndSharedPagesIsReportedButNotFlaggedWhenAnonymousMemoryIsFlat()
    {
        // One process for 40 minutes: RSS climbs 5 MiB a minute (mapped table files read into the page cache, jitted
        // code), its anonymous memory holds 250-270 MiB with a GC sawtooth.
        var minutes = Enumerable.Range(1, 40).Select(m => Minute(m,
            rss: [150 + (5.0 * m) + (m % 4 * 5)],
            disk: [10],
            p99: 40,
            pids: [7],
            anon: [250 + (m % 4 * 5)])).ToList();

        var findings = GrowthCheck.Analyze(minutes, 25);
        var rss = Assert.Single(findings, f => f.Series == "store 1 RSS");
        Assert.False(rss.Judged);
        Assert.False(rss.Flagged);
        Assert.True(rss.Last - rss.Middle > GrowthCheck.RssFloorMiB && rss.GrowthPercent > 25); // would have been flagged
        Assert.False(Assert.Single(findings, f => f.Series == "store 1 anon").Flagged);

        var slope = Assert.Single(GrowthCheck.RssSlopes(minutes, 1.0));
        Assert.Equal("anon", slope.Series);
        Assert.False(slope.Flagged);
        Assert.InRange(slope.RssMiBPerMinute, 4.5, 5.5);

        // The same RSS with the climb in anonymous memory instead is flagged by both checks.
        var leaking = minutes.Select(m => m with { AnonMiB = [100 + (5.0 * m.Minute) + (m.Minute % 4 * 5)] }).ToList();
        Assert.True(Assert.Single(GrowthCheck.Analyze(leaking, 25), f => f.Series == "store 1 anon").Flagged);
        var leak = Assert.Single(GrowthCheck.RssSlopes(leaking, 1.0));
        Assert.True(leak.Flagged);
        Assert.InRange(leak.MiBPerMinute, 4.5, 5.5);
    }

    [Fact]
    public void WithoutAnonymousMemoryTheWholeRssIsJudgedAsBefore()
    {
        var minutes = Enumerable.Range(1, 40).Select(m => Minute(m, rss: [150 + (5.0 * m)], disk: [10], p99: 40, pids: [7])).ToList();

        Assert.True(Assert.Single(GrowthCheck.Analyze(minutes, 25), f => f.Series == "store 1 RSS").Flagged);
        Assert.DoesNotContain(GrowthCheck.Analyze(minutes, 25), f => f.Series.EndsWith("anon", StringComparison.Ordinal));
        var slope = Assert.Single(GrowthCheck.RssSlopes(minutes, 1.0));
        Assert.Equal("RSS", slope.Series);
        Assert.True(slope.Flagged);
    }

    [Fact]
    public void ProcStatusGivesTheResidentSetAndItsAnonymousPart()
    {
        string[] status =
        [
            "Name:\tdotnet",
            "VmPeak:\t53185704 kB",
            "VmRSS:\t  314808 kB",
            "RssAnon:\t  199244 kB",
            "RssFile:\t   66228 kB",
            "RssShmem:\t   49336 kB",
        ];

        var (rss, anon) = SoakMonitor.ParseStatus(status);

        Assert.Equal(314808 / 1024.0, rss, 6);
        Assert.Equal(199244 / 1024.0, anon, 6);
        Assert.Equal((-1.0, -1.0), SoakMonitor.ParseStatus(["Name:\tdotnet", "VmRSS:\tgarbage kB"]));
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

    private static SoakSample Minute(int minute, double[] rss, double[] disk, double p99, long ops = 60000, int[]? pids = null, double[]? anon = null) =>
        new(minute, ops, 0, 3, p99, p99 * 2, rss, disk, 100, "", pids, anon);
}
