using NoKv.Abstractions.Security;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.Client.Tests.Security;

public sealed class AuthTokenTests(ITestOutputHelper output)
{
    private const string Secret = "0123456789abcdef0123456789abcdef-first";
    private const string OtherSecret = "0123456789abcdef0123456789abcdef-other";
    private const long Issued = 1_790_000_000_000;
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(2);

    private static readonly NoKvKey Key = new("k1", Secret);
    private static readonly NoKvKeyRing Ring = new([Key]);

    [Fact]
    public void AFreshTokenVerifiesAndNamesItsPrincipalAndKey()
    {
        string token = AuthToken.Create(Key, "client:app-1", Issued);

        var check = AuthToken.Verify(token, Ring, Issued + 5, Skew);

        Assert.Equal(AuthTokenOutcome.Valid, check.Outcome);
        Assert.Equal("client:app-1", check.Principal);
        Assert.Equal("k1", check.KeyId);
        Assert.Equal(Issued + (long)Skew.TotalMilliseconds, check.ValidUntilUnixMs);
        Assert.DoesNotContain(Secret, token, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSameSecretUnderTheSameIdVerifiesInAnotherProcess()
    {
        // A silo holds its own NoKvKey instance built from the same key file text.
        var silo = NoKvKeyRing.Parse($"k1:{Secret}", "test");

        Assert.True(AuthToken.Verify(AuthToken.Create(Key, "c", Issued), silo, Issued, Skew).IsValid);
    }

    [Fact]
    public void AnotherSecretUnderTheSameKeyIdIsABadSignature()
    {
        string token = AuthToken.Create(new NoKvKey("k1", OtherSecret), "client:intruder", Issued);

        var check = AuthToken.Verify(token, Ring, Issued, Skew);

        Assert.Equal(AuthTokenOutcome.BadSignature, check.Outcome);
        Assert.Equal("client:intruder", check.Principal);
    }

    [Fact]
    public void AKeyIdTheRingDoesNotHoldIsUnknown()
    {
        string token = AuthToken.Create(new NoKvKey("k9", Secret), "c", Issued);

        Assert.Equal(AuthTokenOutcome.UnknownKey, AuthToken.Verify(token, Ring, Issued, Skew).Outcome);
    }

    [Theory]
    [InlineData(0, AuthTokenOutcome.Valid)]
    [InlineData(120_000, AuthTokenOutcome.Valid)]
    [InlineData(120_001, AuthTokenOutcome.Expired)]
    [InlineData(3_600_000, AuthTokenOutcome.Expired)]
    [InlineData(-120_000, AuthTokenOutcome.Valid)]
    [InlineData(-120_001, AuthTokenOutcome.NotYetValid)]
    public void TheIssueTimeMustBeWithinTheSkewWindowEitherWay(long nowMinusIssuedMs, AuthTokenOutcome expected)
    {
        string token = AuthToken.Create(Key, "c", Issued);

        Assert.Equal(expected, AuthToken.Verify(token, Ring, Issued + nowMinusIssuedMs, Skew).Outcome);
    }

    [Fact]
    public void AnExpiredTokenWithAWrongSignatureIsReportedAsABadSignature()
    {
        // The signature is checked first, so "expired" is only ever said of a token the cluster's key signed.
        string token = AuthToken.Create(new NoKvKey("k1", OtherSecret), "c", Issued);

        Assert.Equal(AuthTokenOutcome.BadSignature, AuthToken.Verify(token, Ring, Issued + 10 * 60_000, Skew).Outcome);
    }

    [Fact]
    public void ChangingAnySingleCharacterOfATokenInvalidatesIt()
    {
        string token = AuthToken.Create(Key, "client:app-1", Issued);
        const string alphabet = "0123456789abcdefABCDEF.-_:@vxyz";
        for (int i = 0; i < token.Length; i++)
        {
            foreach (char c in alphabet)
            {
                if (c == token[i])
                {
                    continue;
                }

                string tampered = string.Concat(token.AsSpan(0, i), c.ToString(), token.AsSpan(i + 1));
                var check = AuthToken.Verify(tampered, Ring, Issued, Skew);
                Assert.False(check.IsValid, $"changing position {i} to '{c}' still verified: {tampered}");
            }
        }
    }

    [Fact]
    public void MovingASignatureOntoAnotherPrincipalOrIssueTimeIsABadSignature()
    {
        string token = AuthToken.Create(Key, "client:reader", Issued);
        string mac = token[(token.LastIndexOf('.') + 1)..];
        string nonce = token.Split('.')[4];

        Assert.Equal(AuthTokenOutcome.BadSignature, AuthToken.Verify($"v1.k1.client:admin.{Issued}.{nonce}.{mac}", Ring, Issued, Skew).Outcome);
        Assert.Equal(AuthTokenOutcome.BadSignature, AuthToken.Verify($"v1.k1.client:reader.{Issued + 60_000}.{nonce}.{mac}", Ring, Issued, Skew).Outcome);
    }

    [Theory]
    [InlineData(null, AuthTokenOutcome.Missing)]
    [InlineData("", AuthTokenOutcome.Missing)]
    [InlineData("v1", AuthTokenOutcome.Malformed)]
    [InlineData("v1.k1.c.1790000000000.0123456789abcdef", AuthTokenOutcome.Malformed)]
    [InlineData("v2.k1.c.1790000000000.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", AuthTokenOutcome.Malformed)]
    [InlineData("v1.k1.c.1790000000000.0123456789abcdef.AAAA", AuthTokenOutcome.Malformed)]
    [InlineData("v1.k1.c.1790000000000.0123456789abcdef.!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", AuthTokenOutcome.Malformed)]
    [InlineData("v1.k1.c.-5.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", AuthTokenOutcome.Malformed)]
    [InlineData("v1.k1.c.99999999999999999999.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", AuthTokenOutcome.Malformed)]
    [InlineData("v1.k1.c.1790000000000.0123456789ABCDEF.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", AuthTokenOutcome.Malformed)]
    [InlineData("v1.k1.c d.1790000000000.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", AuthTokenOutcome.Malformed)]
    [InlineData("v1.k1.c.1790000000000.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.x", AuthTokenOutcome.Malformed)]
    [InlineData("v1.k1.cé.1790000000000.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", AuthTokenOutcome.Malformed)]
    [InlineData("v1.k1.c.1790000000000.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", AuthTokenOutcome.BadSignature)]
    public void MalformedTokensAreRefusedWithoutThrowing(string? token, AuthTokenOutcome expected)
    {
        Assert.Equal(expected, AuthToken.Verify(token, Ring, Issued, Skew).Outcome);
    }

    [Fact]
    public void AnOverlongTokenIsMalformed()
    {
        string token = AuthToken.Create(Key, "c", Issued) + new string('A', AuthToken.MaxLength);

        Assert.Equal(AuthTokenOutcome.Malformed, AuthToken.Verify(token, Ring, Issued, Skew).Outcome);
    }

    [Fact]
    public void RandomInputNeverThrowsAndNeverVerifies()
    {
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        string valid = AuthToken.Create(Key, "client:app", Issued);
        const string alphabet = "v1k.c:@-_0123456789abcdefABCDEFxyz=+/ \u00e9";
        for (int i = 0; i < 5000; i++)
        {
            string candidate;
            if (i % 2 == 0)
            {
                var chars = new char[random.Next(0, 300)];
                for (int j = 0; j < chars.Length; j++)
                {
                    chars[j] = alphabet[random.Next(alphabet.Length)];
                }

                candidate = new string(chars);
            }
            else
            {
                // Mutations of a valid token: cut, repeated and spliced pieces.
                int a = random.Next(valid.Length), b = random.Next(a, valid.Length + 1);
                candidate = random.Next(3) switch
                {
                    0 => valid[..a] + valid[b..],
                    1 => valid[..b] + valid[a..],
                    _ => valid[..a] + alphabet[random.Next(alphabet.Length)] + valid[a..],
                };
            }

            var check = AuthToken.Verify(candidate, Ring, Issued, Skew);
            Assert.True(!check.IsValid || candidate == valid, $"seed {seed}: '{candidate}' verified");
        }
    }

    [Fact]
    public void ARingWithTheOldAndTheNewKeyAcceptsBothDuringARotation()
    {
        var newKey = new NoKvKey("k2", OtherSecret);
        var during = new NoKvKeyRing([newKey, Key]);
        var after = new NoKvKeyRing([newKey]);
        string old = AuthToken.Create(Key, "c", Issued);

        Assert.True(AuthToken.Verify(old, during, Issued, Skew).IsValid);
        Assert.True(AuthToken.Verify(AuthToken.Create(during.Primary, "c", Issued), during, Issued, Skew).IsValid);
        Assert.Equal(AuthTokenOutcome.UnknownKey, AuthToken.Verify(old, after, Issued, Skew).Outcome);
    }

    [Fact]
    public void RefusalDescriptionsNeverContainTheTokenOrASecret()
    {
        string token = AuthToken.Create(new NoKvKey("k1", OtherSecret), "c", Issued);
        string mac = token[(token.LastIndexOf('.') + 1)..];
        foreach (var check in new[]
        {
            AuthToken.Verify(token, Ring, Issued, Skew),
            AuthToken.Verify(null, Ring, Issued, Skew),
            AuthToken.Verify(AuthToken.Create(Key, "c", Issued), Ring, Issued + 3_600_000, Skew),
        })
        {
            string text = check.Describe(Skew);
            Assert.DoesNotContain(mac, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(OtherSecret, text, StringComparison.Ordinal);
        }
    }
}
