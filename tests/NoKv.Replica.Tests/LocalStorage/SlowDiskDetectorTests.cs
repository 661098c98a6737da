using NoKv.Grains.Store;
using Xunit;

namespace NoKv.Replica.Tests.LocalStorage;

public sealed class SlowDiskDetectorTests
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan Slow = TimeSpan.FromMilliseconds(300);

    private static SlowDiskDetector Detector() =>
        new(TimeSpan.FromMilliseconds(200), slowSyncCount: 2, window: TimeSpan.FromSeconds(3), recovery: TimeSpan.FromSeconds(5));

    [Fact]
    public void One_slow_sync_is_a_hiccup_and_a_second_within_the_window_makes_the_disk_slow()
    {
        var detector = Detector();
        Assert.False(detector.Observe(0, Fast, TimeSpan.Zero));
        Assert.False(detector.Observe(100, Slow, TimeSpan.Zero));
        Assert.False(detector.IsSlow);

        // The second slow sync comes after the window: still one in the window.
        Assert.False(detector.Observe(3_200, Slow, TimeSpan.Zero));
        Assert.False(detector.IsSlow);

        Assert.True(detector.Observe(3_500, TimeSpan.FromMilliseconds(450), TimeSpan.Zero));
        Assert.True(detector.IsSlow);
        Assert.Equal(TimeSpan.FromMilliseconds(450), detector.SlowestSeen);
    }

    [Fact]
    public void A_slow_sync_in_flight_counts_with_one_completed_before_it()
    {
        var detector = Detector();
        Assert.False(detector.Observe(300, Slow, TimeSpan.Zero));
        Assert.False(detector.Observe(400, TimeSpan.Zero, TimeSpan.FromMilliseconds(100)));
        Assert.True(detector.Observe(500, TimeSpan.Zero, TimeSpan.FromMilliseconds(200)));
        Assert.True(detector.IsSlow);
    }

    [Fact]
    public void A_sync_that_hangs_makes_the_disk_slow_without_a_second_one()
    {
        var detector = Detector();
        Assert.False(detector.Observe(100, TimeSpan.Zero, TimeSpan.FromMilliseconds(250)));
        Assert.True(detector.Observe(300, TimeSpan.Zero, TimeSpan.FromMilliseconds(450)));
        Assert.True(detector.IsSlow);

        // Still in flight: the disk stays slow however long it hangs.
        Assert.False(detector.Observe(20_000, TimeSpan.Zero, TimeSpan.FromSeconds(20)));
        Assert.True(detector.IsSlow);
    }

    [Fact]
    public void The_disk_is_fast_again_only_after_the_recovery_time_without_a_slow_sync()
    {
        var detector = Detector();
        detector.Observe(0, Slow, TimeSpan.Zero);
        Assert.True(detector.Observe(400, Slow, TimeSpan.Zero));

        // Fast syncs alone do not end it before the recovery time; a slow one in between starts it over.
        Assert.False(detector.Observe(3_000, Fast, TimeSpan.Zero));
        Assert.False(detector.Observe(5_000, Slow, TimeSpan.Zero));
        Assert.False(detector.Observe(9_900, Fast, TimeSpan.Zero));
        Assert.True(detector.IsSlow);

        Assert.True(detector.Observe(10_000, Fast, TimeSpan.Zero));
        Assert.False(detector.IsSlow);
        Assert.Equal(TimeSpan.Zero, detector.SlowestSeen);

        // A new episode needs two slow syncs again.
        Assert.False(detector.Observe(10_100, Slow, TimeSpan.Zero));
        Assert.True(detector.Observe(10_200, Slow, TimeSpan.Zero));
    }

    [Fact]
    public void Bad_settings_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlowDiskDetector(TimeSpan.Zero, 2, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlowDiskDetector(TimeSpan.FromMilliseconds(200), 0, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlowDiskDetector(TimeSpan.FromMilliseconds(200), 2, TimeSpan.Zero, TimeSpan.FromSeconds(5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlowDiskDetector(TimeSpan.FromMilliseconds(200), 2, TimeSpan.FromSeconds(3), TimeSpan.Zero));
    }
}
