using System.Text;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Telemetry;
using Xunit;

namespace NoKv.Replica.Tests.Telemetry;

/// <summary>
/// <see cref="HotKeyTracker"/>: the keys served most in the last complete window, with a rate that is a lower bound,
/// within fixed memory however many distinct keys pass; a uniform load reports nothing.
/// </summary>
public sealed class HotKeyTrackerTests
{
    [Fact]
    public void Keys_taking_a_large_share_of_a_window_are_reported_hottest_first_among_many_cold_keys()
    {
        var time = new ManualTime();
        var tracker = new HotKeyTracker(time);
        var random = new Random(7);

        // 10,000 cold keys once each, one key 600 times and another 300 times, interleaved: far more distinct keys
        // than counters, so the hot ones must survive evictions.
        var hot = Key("hot");
        var warm = Key("warm");
        for (int i = 0; i < 10_000; i++)
        {
            tracker.Record(new ShardId(1), Key("cold-" + i));
            if (i % 16 == 0)
            {
                tracker.Record(new ShardId(2), hot);
            }

            if (i % 32 == 0)
            {
                tracker.Record(new ShardId(1), warm);
            }

            if (random.Next(4) == 0)
            {
                tracker.Record(new ShardId(2), hot);
            }
        }

        Assert.Empty(tracker.Report()); // the window is not complete yet
        time.Advance(HotKeyTracker.Window);
        var report = tracker.Report();

        Assert.Equal(["hot", "warm"], report.Select(r => Encoding.ASCII.GetString(r.Key)));
        Assert.Equal(2, report[0].Shard);
        Assert.Equal(1, report[1].Shard);

        // Lower bounds: never above the true rate (hot: 625 + about 2,500 random, warm: 313 in 10 s).
        Assert.InRange(report[1].RequestsPerSecond, 1, 31.3);
        Assert.True(report[0].RequestsPerSecond > report[1].RequestsPerSecond);
    }

    [Fact]
    public void A_uniform_load_reports_nothing_and_an_idle_store_forgets_its_last_window()
    {
        var time = new ManualTime();
        var tracker = new HotKeyTracker(time);
        for (int round = 0; round < 30; round++)
        {
            for (int i = 0; i < 200; i++)
            {
                tracker.Record(new ShardId(1), Key("k" + i));
            }
        }

        time.Advance(HotKeyTracker.Window);
        Assert.Empty(tracker.Report());

        tracker.Record(new ShardId(1), Key("x"));
        for (int i = 0; i < 50; i++)
        {
            tracker.Record(new ShardId(3), Key("again"));
        }

        time.Advance(HotKeyTracker.Window);
        var report = Assert.Single(tracker.Report());
        Assert.Equal("again", Encoding.ASCII.GetString(report.Key));
        Assert.Equal(3, report.Shard);
        Assert.Equal(5.0, report.RequestsPerSecond, 3);

        // Nothing served for two windows: the old report is not shown as current.
        time.Advance(HotKeyTracker.Window + HotKeyTracker.Window);
        Assert.Empty(tracker.Report());
    }

    [Fact]
    public void The_same_key_in_two_shards_is_two_entries()
    {
        var time = new ManualTime();
        var tracker = new HotKeyTracker(time);
        for (int i = 0; i < 40; i++)
        {
            tracker.Record(new ShardId(1), Key("k"));
            tracker.Record(new ShardId(2), Key("k"));
        }

        time.Advance(HotKeyTracker.Window);
        Assert.Equal([1L, 2L], tracker.Report().Select(r => r.Shard).Order());
    }

    private static byte[] Key(string text) => Encoding.ASCII.GetBytes(text);

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
