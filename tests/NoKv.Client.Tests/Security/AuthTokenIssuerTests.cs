using NoKv.Abstractions.Security;
using NoKv.Client.Tests.Fakes;
using Xunit;

namespace NoKv.Client.Tests.Security;

public sealed class AuthTokenIssuerTests
{
    private static readonly NoKvKey Key = new("k1", "0123456789abcdef0123456789abcdef");
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(2);

    [Fact]
    public void ReusesATokenWithinTheRefreshIntervalAndMintsANewOneAfter()
    {
        var time = new ManualTimeProvider();
        var issuer = new AuthTokenIssuer(Key, "client:test", time, TimeSpan.FromSeconds(20));

        string first = issuer.Current;
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.Same(first, issuer.Current);
        time.Advance(TimeSpan.FromSeconds(1));
        string second = issuer.Current;

        Assert.NotEqual(first, second);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var check = AuthToken.Verify(second, new NoKvKeyRing([Key]), now, Skew);
        Assert.True(check.IsValid, check.Outcome.ToString());
        Assert.Equal("client:test", check.Principal);
    }

    [Fact]
    public void ATokenInUseIsAlwaysWellInsideTheSkewWindow()
    {
        var time = new ManualTimeProvider();
        var issuer = new AuthTokenIssuer(Key, "client:test", time);
        var ring = new NoKvKeyRing([Key]);
        for (int step = 0; step < 200; step++)
        {
            string token = issuer.Current;
            var check = AuthToken.Verify(token, ring, time.GetUtcNow().ToUnixTimeMilliseconds() + 60_000, Skew);
            Assert.True(check.IsValid, $"at step {step} the current token would not survive a 60 s slower verifier: {check.Outcome}");
            time.Advance(TimeSpan.FromSeconds(3));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("dot.ted")]
    public void RefusesAPrincipalThatCannotTravelInAToken(string principal)
    {
        Assert.Throws<ArgumentException>(() => new AuthTokenIssuer(Key, principal, TimeProvider.System));
    }
}
