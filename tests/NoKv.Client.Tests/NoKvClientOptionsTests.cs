using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NoKv.Client.Hosting;
using Orleans.Configuration;
using Xunit;

namespace NoKv.Client.Tests;

public sealed class NoKvClientOptionsTests
{
    [Fact]
    public void TheAttemptTimeoutDefaultsToOneElectionTimeoutPlusHalf()
    {
        // The replicas' defaults: ElectionTicks 6 x TickInterval 100 ms = 600 ms.
        var options = new NoKvClientOptions();
        Assert.Equal(TimeSpan.FromMilliseconds(900), options.AttemptTimeout);
        Assert.Equal(NoKvClientOptions.DefaultAttemptTimeout, options.AttemptTimeout);
        Assert.True(options.AttemptTimeout < options.OperationTimeout);
        Assert.True(new NoKvClientOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ANonPositiveAttemptTimeoutIsRejectedByName(int milliseconds)
    {
        var result = new NoKvClientOptionsValidator().Validate(null, new NoKvClientOptions { AttemptTimeout = TimeSpan.FromMilliseconds(milliseconds) });
        Assert.True(result.Failed);
        Assert.Contains("AttemptTimeout", result.FailureMessage);
    }

    [Fact]
    public void BackoffBoundsMustBeOrdered()
    {
        var result = new NoKvClientOptionsValidator().Validate(null, new NoKvClientOptions { InitialBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromMilliseconds(500) });
        Assert.True(result.Failed);
        Assert.Contains("InitialBackoff", result.FailureMessage);
    }

    [Fact]
    public void AddNoKvClientShortensOrleansDefaultGatewayListRefreshButKeepsAnApplicationsOwn()
    {
        var defaults = new ServiceCollection().AddOptions().AddNoKvClient().BuildServiceProvider();
        Assert.Equal(NoKvClientOptions.DefaultGatewayListRefreshPeriod, defaults.GetRequiredService<IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod);
        Assert.True(NoKvClientOptions.DefaultGatewayListRefreshPeriod < new GatewayOptions().GatewayListRefreshPeriod);

        var chosen = new ServiceCollection().AddOptions().Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(30)).AddNoKvClient().BuildServiceProvider();
        Assert.Equal(TimeSpan.FromSeconds(30), chosen.GetRequiredService<IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod);
    }
}
