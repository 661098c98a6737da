using NoKv.Storage.Encoding;
using Xunit;

namespace NoKv.Storage.Tests.Encoding;

public class FixedTests
{
    [Fact]
    public void WritesLittleEndian()
    {
        var buffer = new byte[8];
        Fixed.Write32(buffer, 0x04030201u);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, buffer[..4]);
        Fixed.Write64(buffer, 0x0807060504030201UL);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, buffer);
        Assert.Equal(0x0807060504030201UL, Fixed.Read64(buffer));
        Assert.Equal(0x04030201u, Fixed.Read32(buffer));
    }

    [Fact]
    public void ShortSpansThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Fixed.Read32(new byte[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fixed.Read64(new byte[7]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fixed.Write64(new byte[7], 1));
    }
}
