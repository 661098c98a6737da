using Xunit;

namespace NoKv.Storage.Tests;

public class CorruptionExceptionTests
{
    [Fact]
    public void CarriesPathOffsetAndMessage()
    {
        var e = new CorruptionException("/db/000007.sst", 4096, "block checksum mismatch");
        Assert.Equal("/db/000007.sst", e.Path);
        Assert.Equal(4096, e.Offset);
        Assert.Contains("/db/000007.sst", e.Message);
        Assert.Contains("4096", e.Message);
        Assert.Contains("block checksum mismatch", e.Message);
    }
}
