using NoKv.Grains.Store;
using Xunit;

namespace NoKv.IntegrationTests.Silo;

/// <summary>The store's engine pacing settings are checked at silo start, each failure naming its setting.</summary>
public sealed class NoKvStoreOptionsValidatorTests
{
    private static NoKvStoreOptions Valid() => new() { StoreId = 1, DataDirectory = "data" };

    [Fact]
    public void DefaultsPaceTheEngineAndAreValid()
    {
        var options = Valid();
        Assert.True(new NoKvStoreOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(options.BackgroundThreadNice > 0);
        Assert.True(options.TableBytesPerSync > 0);
        Assert.True(options.BackgroundWriteBytesPerSecond > 0);
        Assert.True(options.LogDeleteStepBytes > 0);
    }

    [Theory]
    [InlineData(nameof(NoKvStoreOptions.BackgroundThreadNice), -1L)]
    [InlineData(nameof(NoKvStoreOptions.BackgroundThreadNice), 20L)]
    [InlineData(nameof(NoKvStoreOptions.TableBytesPerSync), -1L)]
    [InlineData(nameof(NoKvStoreOptions.BackgroundWriteBytesPerSecond), 4096L)]
    [InlineData(nameof(NoKvStoreOptions.LogDeleteStepBytes), -1L)]
    public void OutOfRangePacingSettingIsRejectedByName(string setting, long value)
    {
        var options = Valid();
        switch (setting)
        {
            case nameof(NoKvStoreOptions.BackgroundThreadNice):
                options.BackgroundThreadNice = (int)value;
                break;
            case nameof(NoKvStoreOptions.TableBytesPerSync):
                options.TableBytesPerSync = value;
                break;
            case nameof(NoKvStoreOptions.BackgroundWriteBytesPerSecond):
                options.BackgroundWriteBytesPerSecond = value;
                break;
            default:
                options.LogDeleteStepBytes = value;
                break;
        }

        var result = new NoKvStoreOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void ZeroTurnsEachPacingSettingOff()
    {
        var options = Valid();
        options.BackgroundThreadNice = 0;
        options.TableBytesPerSync = 0;
        options.BackgroundWriteBytesPerSecond = 0;
        options.LogDeleteStepBytes = 0;
        Assert.True(new NoKvStoreOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("lz4")]
    [InlineData("none, none, LZ4, zstd")]
    public void CodecListsAreAccepted(string compression)
    {
        var options = Valid();
        options.Compression = compression;
        Assert.True(new NoKvStoreOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(NoKvStoreOptions.TryParseCompression(compression, out var codecs));
        Assert.Equal(compression.Split(',').Length, codecs.Length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("snappy")]
    [InlineData("lz4,,zstd")]
    public void UnknownCodecIsRejectedByName(string compression)
    {
        var options = Valid();
        options.Compression = compression;
        var result = new NoKvStoreOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(nameof(NoKvStoreOptions.Compression), result.FailureMessage, StringComparison.Ordinal);
    }
}
