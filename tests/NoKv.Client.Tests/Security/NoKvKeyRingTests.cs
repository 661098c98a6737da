using NoKv.Abstractions.Security;
using Xunit;

namespace NoKv.Client.Tests.Security;

public sealed class NoKvKeyRingTests
{
    private const string SecretA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-A";
    private const string SecretB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-B";

    [Fact]
    public void ParsesLinesAndSemicolonsSkippingCommentsAndBlankEntries()
    {
        var ring = NoKvKeyRing.Parse($"# keys\n\n  new : {SecretB}  \r\nold:{SecretA};;", "test");

        Assert.Equal(["new", "old"], ring.Keys.Select(k => k.Id));
        Assert.Equal("new", ring.Primary.Id);
        Assert.True(ring.TryGet("old", out _));
        Assert.False(ring.TryGet("other", out _));
    }

    [Theory]
    [InlineData("", "no key")]
    [InlineData("# only a comment", "no key")]
    [InlineData("k1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "entry 1 is not 'id:secret'")]
    [InlineData("k.1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "key id must be")]
    [InlineData(":aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "key id must be")]
    [InlineData("k1:short-secret", "at least 32")]
    [InlineData("k1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nk1:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "appears twice")]
    public void RefusesBadKeyTextNamingTheSourceAndNeverTheSecret(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => NoKvKeyRing.Parse(text, "/etc/nokv/auth.keys"));

        Assert.Contains("/etc/nokv/auth.keys", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("short-secret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("aaaaaaaaaaaaaaaaaaaa", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("bbbbbbbbbbbbbbbbbbbb", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyPrintsItsIdOnly()
    {
        var key = new NoKvKey("k1", SecretA);

        Assert.Equal("key 'k1'", key.ToString());
        Assert.DoesNotContain(SecretA, $"{key} {NoKvKeyRing.Parse($"k1:{SecretA}", "t").Primary}", StringComparison.Ordinal);
    }
}
