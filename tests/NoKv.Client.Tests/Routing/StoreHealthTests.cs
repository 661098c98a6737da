using NoKv.Abstractions.Sharding;
using NoKv.Client.Routing;
using NoKv.Client.Tests.Fakes;
using Xunit;

namespace NoKv.Client.Tests.Routing;

public sealed class StoreHealthTests
{
    private static readonly StoreId Two = new(2);
    private static readonly StoreId Three = new(3);

    private readonly ManualTimeProvider _clock = new();

    [Fact]
    public void StoresAreHealthyUntilOneStopsAnswering()
    {
        var health = new StoreHealth(_clock, TimeSpan.FromSeconds(1));
        Assert.True(health.AllHealthy);
        Assert.True(health.TryAdmit(Two));

        health.Suspect(Two);
        Assert.False(health.AllHealthy);
        Assert.True(health.IsSuspect(Two));
        Assert.False(health.IsSuspect(Three));
        Assert.False(health.TryAdmit(Two));
        Assert.True(health.TryAdmit(Three));
    }

    [Fact]
    public void AnAnswerClearsTheSuspicion()
    {
        var health = new StoreHealth(_clock, TimeSpan.FromSeconds(1));
        health.Suspect(Two);
        health.Suspect(Three);
        health.Cleared(Two);
        Assert.False(health.IsSuspect(Two));
        Assert.True(health.TryAdmit(Two));
        Assert.True(health.IsSuspect(Three));
        health.Cleared(Three);
        Assert.True(health.AllHealthy);
    }

    [Fact]
    public void ASuspectStoreGetsOneProbePerInterval()
    {
        var health = new StoreHealth(_clock, TimeSpan.FromSeconds(1));
        health.Suspect(Two);

        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(health.TryAdmit(Two));

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(health.TryAdmit(Two));

        // The probe is taken: concurrent callers keep avoiding the store until the next interval.
        Assert.False(health.TryAdmit(Two));
        Assert.True(health.IsSuspect(Two));
        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(health.TryAdmit(Two));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(health.TryAdmit(Two));
    }

    [Fact]
    public void AProbeThatTimesOutStartsTheIntervalAgain()
    {
        var health = new StoreHealth(_clock, TimeSpan.FromSeconds(1));
        health.Suspect(Two);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(health.TryAdmit(Two));

        // The probe waited most of an interval before timing out: the next one is a full interval after that.
        _clock.Advance(TimeSpan.FromMilliseconds(900));
        health.Suspect(Two);
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.False(health.TryAdmit(Two));
        _clock.Advance(TimeSpan.FromMilliseconds(800));
        Assert.True(health.TryAdmit(Two));
    }

    [Fact]
    public void OnlyOneOfManyConcurrentCallersTakesTheProbe()
    {
        var health = new StoreHealth(_clock, TimeSpan.FromSeconds(1));
        health.Suspect(Two);
        _clock.Advance(TimeSpan.FromSeconds(1));
        int admitted = 0;
        Parallel.For(0, 64, _ =>
        {
            if (health.TryAdmit(Two))
            {
                Interlocked.Increment(ref admitted);
            }
        });
        Assert.Equal(1, admitted);
    }
}
