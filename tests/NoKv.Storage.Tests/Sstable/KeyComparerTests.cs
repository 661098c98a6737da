using NoKv.Storage.Sstable;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

public class KeyComparerTests
{
    private static byte[] B(params byte[] bytes) => bytes;

    [Fact]
    public void BytewiseIsUnsignedLexicographic()
    {
        var c = BytewiseComparer.Instance;
        Assert.True(c.Compare(B(), B(0)) < 0);
        Assert.True(c.Compare(B(1), B(1, 0)) < 0);
        Assert.True(c.Compare(B(0x7F), B(0x80)) < 0);
        Assert.True(c.Compare(B(0xFF), B(0x00, 0xFF)) > 0);
        Assert.Equal(0, c.Compare(B(1, 2, 3), B(1, 2, 3)));
    }

    [Theory]
    [InlineData("abc", "abe", "abd")]
    [InlineData("abc", "abd", "abc")]
    [InlineData("abc", "abcd", "abc")]
    [InlineData("a", "z", "b")]
    [InlineData("helloworld", "hellozoomer", "hellox")]
    public void BytewiseSeparatorIsShortAndBetween(string start, string limit, string expected)
    {
        var c = BytewiseComparer.Instance;
        byte[] s = System.Text.Encoding.ASCII.GetBytes(start);
        byte[] l = System.Text.Encoding.ASCII.GetBytes(limit);
        byte[] sep = c.FindShortestSeparator(s, l);
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(sep));
        Assert.True(c.Compare(s, sep) <= 0);
        Assert.True(c.Compare(sep, l) < 0);
    }

    [Fact]
    public void BytewiseSuccessor()
    {
        var c = BytewiseComparer.Instance;
        Assert.Equal(B(2), c.FindShortSuccessor(B(1, 5, 6)));
        Assert.Equal(B(0xFF, 0xFF, 1), c.FindShortSuccessor(B(0xFF, 0xFF, 0, 9)));
        Assert.Equal(B(0xFF, 0xFF), c.FindShortSuccessor(B(0xFF, 0xFF)));
    }

    [Fact]
    public void InternalKeysSortByUserKeyThenNewestFirst()
    {
        var c = InternalKeyComparer.Instance;
        byte[] a5 = InternalKeyComparer.MakeKey("a"u8, 5, 1);
        byte[] a9 = InternalKeyComparer.MakeKey("a"u8, 9, 1);
        byte[] a9del = InternalKeyComparer.MakeKey("a"u8, 9, 0);
        byte[] b1 = InternalKeyComparer.MakeKey("b"u8, 1, 1);
        byte[] ab1 = InternalKeyComparer.MakeKey("ab"u8, 1, 1);
        Assert.True(c.Compare(a9, a5) < 0);
        Assert.True(c.Compare(a9, a9del) < 0);
        Assert.True(c.Compare(a5, ab1) < 0);
        Assert.True(c.Compare(ab1, b1) < 0);
        Assert.Equal(0, c.Compare(a5, InternalKeyComparer.MakeKey("a"u8, 5, 1)));
        Assert.Equal("ab"u8.ToArray(), c.UserKey(ab1).ToArray());
    }

    [Fact]
    public void InternalSeparatorAndSuccessorStayInOrder()
    {
        const int seed = 11;
        var random = new Random(seed);
        var c = InternalKeyComparer.Instance;
        for (int i = 0; i < 2000; i++)
        {
            byte[] u1 = RandomKey(random);
            byte[] u2 = RandomKey(random);
            byte[] k1 = InternalKeyComparer.MakeKey(u1, (ulong)random.Next(1000), 1);
            byte[] k2 = InternalKeyComparer.MakeKey(u2, (ulong)random.Next(1000), 1);
            if (c.Compare(k1, k2) > 0)
            {
                (k1, k2) = (k2, k1);
            }

            if (c.Compare(k1, k2) == 0)
            {
                continue;
            }

            byte[] sep = c.FindShortestSeparator(k1, k2);
            Assert.True(c.Compare(k1, sep) <= 0 && c.Compare(sep, k2) < 0, $"seed={seed} i={i}");
            byte[] succ = c.FindShortSuccessor(k1);
            Assert.True(c.Compare(k1, succ) <= 0, $"seed={seed} i={i}");
        }
    }

    private static byte[] RandomKey(Random random)
    {
        var key = new byte[random.Next(0, 6)];
        for (int i = 0; i < key.Length; i++)
        {
            key[i] = (byte)(random.Next(3) == 0 ? 0xFF : random.Next(0, 4));
        }

        return key;
    }
}
