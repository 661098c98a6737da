using System.Text;
using NoKv.Resp.Scan;
using Xunit;

namespace NoKv.Resp.Tests.Scan;

public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("*", "", true)]
    [InlineData("*", "anything", true)]
    [InlineData("user:*", "user:42", true)]
    [InlineData("user:*", "users:42", false)]
    [InlineData("h?llo", "hello", true)]
    [InlineData("h?llo", "hllo", false)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[ae]llo", "hillo", false)]
    [InlineData("h[^e]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[a-c]llo", "hbllo", true)]
    [InlineData("h[c-a]llo", "hbllo", true)]
    [InlineData("h\\*llo", "h*llo", true)]
    [InlineData("h\\*llo", "hello", false)]
    [InlineData("*a*b*c", "xxaxxbxxc", true)]
    [InlineData("*a*b*c", "xxaxxcxxb", false)]
    [InlineData("a*", "b", false)]
    [InlineData("[abc", "b", true)]
    public void Matches_like_redis(string pattern, string key, bool expected) =>
        Assert.Equal(expected, GlobPattern.IsMatch(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(key)));

    /// <summary>Against a naive recursive matcher over random patterns and keys from a small alphabet (seeded).</summary>
    [Fact]
    public void Agrees_with_a_naive_matcher_on_random_inputs()
    {
        var random = new Random(20261206);
        const string patternAlphabet = "ab*?[]^-\\";
        for (int i = 0; i < 20_000; i++)
        {
            var pattern = RandomText(random, patternAlphabet, 8);
            var key = RandomText(random, "abc", 10);
            Assert.True(Naive(pattern, 0, key, 0) == GlobPattern.IsMatch(pattern, key), $"pattern '{Encoding.ASCII.GetString(pattern)}' key '{Encoding.ASCII.GetString(key)}'");
        }
    }

    [Fact]
    public void A_hostile_pattern_stays_fast()
    {
        var pattern = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("*a", 50)) + "b");
        var key = Encoding.ASCII.GetBytes(new string('a', 4000));
        Assert.False(GlobPattern.IsMatch(pattern, key));
    }

    private static byte[] RandomText(Random random, string alphabet, int max)
    {
        var bytes = new byte[random.Next(0, max + 1)];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)alphabet[random.Next(alphabet.Length)];
        }

        return bytes;
    }

    /// <summary>Straight from the definition, exponential but obviously right.</summary>
    private static bool Naive(byte[] p, int pi, byte[] k, int ki)
    {
        if (pi == p.Length)
        {
            return ki == k.Length;
        }

        if (p[pi] == '*')
        {
            for (int skip = ki; skip <= k.Length; skip++)
            {
                if (Naive(p, pi + 1, k, skip))
                {
                    return true;
                }
            }

            return false;
        }

        if (ki == k.Length)
        {
            return false;
        }

        if (p[pi] == '?')
        {
            return Naive(p, pi + 1, k, ki + 1);
        }

        if (p[pi] == '\\' && pi + 1 < p.Length)
        {
            return p[pi + 1] == k[ki] && Naive(p, pi + 2, k, ki + 1);
        }

        if (p[pi] == '[')
        {
            int i = pi + 1;
            bool negate = i < p.Length && p[i] == '^';
            if (negate)
            {
                i++;
            }

            bool matched = false;
            while (i < p.Length && p[i] != ']')
            {
                if (p[i] == '\\' && i + 1 < p.Length)
                {
                    matched |= p[i + 1] == k[ki];
                    i += 2;
                }
                else if (i + 2 < p.Length && p[i + 1] == '-' && p[i + 2] != ']')
                {
                    int lo = Math.Min(p[i], p[i + 2]), hi = Math.Max(p[i], p[i + 2]);
                    matched |= k[ki] >= lo && k[ki] <= hi;
                    i += 3;
                }
                else
                {
                    matched |= p[i] == k[ki];
                    i++;
                }
            }

            int next = i < p.Length ? i + 1 : i;
            return matched != negate && Naive(p, next, k, ki + 1);
        }

        return p[pi] == k[ki] && Naive(p, pi + 1, k, ki + 1);
    }
}
