using NoKv.Grains.Raft;
using Xunit;

namespace NoKv.Replica.Tests.Codec;

public sealed class PeerWarningLimiterTests
{
    [Fact]
    public void One_warning_per_peer_and_interval_with_the_count_of_those_held_back()
    {
        var time = new ManualTime();
        var limiter = new PeerWarningLimiter(time, TimeSpan.FromMinutes(1));

        Assert.True(limiter.ShouldWarn(2, out long suppressed));
        Assert.Equal(0, suppressed);
        Assert.False(limiter.ShouldWarn(2, out _));
        Assert.False(limiter.ShouldWarn(2, out _));
        Assert.True(limiter.ShouldWarn(3, out _)); // another peer has its own allowance

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(limiter.ShouldWarn(2, out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limiter.ShouldWarn(2, out suppressed));
        Assert.Equal(3, suppressed);
        Assert.False(limiter.ShouldWarn(2, out _));
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
