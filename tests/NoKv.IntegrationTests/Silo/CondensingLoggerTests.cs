using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.IntegrationTests.Infrastructure;
using NoKv.Silo.Configuration;
using NoKv.Silo.Logging;
using NoKv.Silo.Startup;
using Orleans.Runtime;
using Xunit;

namespace NoKv.IntegrationTests.Silo;

/// <summary>
/// The silo's console logging: expected peer failures become one line without a stack trace, once per window;
/// anything else passes through whole.
/// </summary>
public sealed class CondensingLoggerTests
{
    private TimeSpan _now = TimeSpan.FromHours(1);

    [Fact]
    public void AnExpectedFailureIsOneWarningLineWithoutAStackTraceAndItsRepeatsAreCountedUntilTheWindowEnds()
    {
        var (capture, repeats, logger) = Setup("Orleans.Messaging");
        var refused = Thrown(new SocketException((int)SocketError.ConnectionRefused));
        for (int i = 0; i < 50; i++)
        {
            logger.Log(LogLevel.Error, new EventId(100071), "Failed to address message", refused, (s, _) => s);
        }

        var line = Assert.Single(capture.Entries);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Null(line.Exception);
        Assert.Contains("Failed to address message (SocketException: ", line.Text);
        Assert.DoesNotContain(" at ", line.Text);

        Assert.Equal("49 x Orleans.Messaging[100071]", repeats.EndWindow());
        logger.Log(LogLevel.Error, new EventId(100071), "Failed to address message", refused, (s, _) => s);
        Assert.Equal(2, capture.Entries.Count);
    }

    [Theory]
    [InlineData(SocketError.ConnectionRefused)]
    [InlineData(SocketError.ConnectionReset)]
    [InlineData(SocketError.NotConnected)]
    public void ASocketErrorOfAPeerGoingAwayIsExpectedAndOneOfThisSideIsNot(SocketError error)
    {
        // NotConnected ("Transport endpoint is not connected") came from a connect racing a killed silo's death in CI
        // and was printed with its whole stack trace.
        Assert.True(ExpectedFailures.IsExpected(Thrown(new SocketException((int)error))));
        Assert.False(ExpectedFailures.IsExpected(Thrown(new SocketException((int)SocketError.AccessDenied))));
    }

    [Fact]
    public void UnexpectedExceptionsAndCriticalEntriesPassThroughWholeEveryTime()
    {
        var (capture, _, logger) = Setup("Orleans.Messaging");
        var bug = Thrown(new InvalidOperationException("a bug"));
        var storeDown = Thrown(new StoreUnavailableException(new StoreId(1), "no live silo hosts it"));
        for (int i = 0; i < 3; i++)
        {
            logger.LogError(new EventId(7), bug, "unexpected");
            logger.LogCritical(new EventId(8), storeDown, "fatal");
        }

        Assert.Equal(6, capture.Entries.Count);
        Assert.All(capture.Entries, e => Assert.NotNull(e.Exception));
        Assert.Equal(3, capture.Entries.Count(e => e.Level == LogLevel.Error && e.Exception == bug));
    }

    [Fact]
    public void ExceptionsWrappedOrFormattedIntoTheMessageAreRecognised()
    {
        var (capture, _, logger) = Setup("Orleans.Runtime.MembershipService.SiloHealthMonitor");
        var siloGone = (Exception)Activator.CreateInstance(typeof(SiloUnavailableException), "The target silo became unavailable")!;
        logger.LogWarning(new EventId(1), new AggregateException(Thrown(siloGone)), "probe failed");
        logger.LogWarning(new EventId(1), Thrown(new InvalidOperationException("Connection terminated prematurely")), "connection terminated");
        logger.LogWarning(new EventId(2), "Indirect probe failed. Failure message: Encountered exception\n Exc level 0: Orleans.Runtime.Messaging.ConnectionFailedException: Unable to connect\n   at Orleans.Runtime.Messaging.ConnectionManager.GetConnectionAsync()\n   at Somewhere()");
        logger.LogWarning(new EventId(2), "Indirect probe failed again: Orleans.Runtime.Messaging.ConnectionFailedException");

        Assert.Equal(2, capture.Entries.Count);
        Assert.All(capture.Entries, e => Assert.Null(e.Exception));
        Assert.Equal(
            "Indirect probe failed. Failure message: Encountered exception  Exc level 0: Orleans.Runtime.Messaging.ConnectionFailedException: Unable to connect (repeats not logged until cluster membership changes)",
            capture.Entries.Last().Text);
    }

    [Fact]
    public void PlacementFindingNoSiloForAStoreIsOneLinePerWindowFromPollyAndFromMessaging()
    {
        // Seen at every cluster stop: each message to a replica of a stopped store made Polly log every placement
        // retry and Orleans.Messaging an error with the exception (about 120 lines per stop from one silo).
        const string noSilo = "No active nodes are compatible with grain shardreplica and interface nokv.IShardReplicaGrain version 0. Known nodes with grain type: none.";
        var (capture, _, polly) = Setup("Polly");
        for (int i = 0; i < 20; i++)
        {
            polly.Log(LogLevel.Warning, new EventId(3), $"Execution attempt. Source: 'Orleans.Placement/(null)/Retry', Result: '{noSilo}'", Thrown(new OrleansException(noSilo)), (s, _) => s);
        }

        var line = Assert.Single(capture.Entries);
        Assert.Null(line.Exception);
        Assert.Contains("(OrleansException: No active nodes are compatible with grain", line.Text);

        var (messaging, _, logger) = Setup("Orleans.Messaging");
        for (int i = 0; i < 20; i++)
        {
            logger.Log(LogLevel.Error, new EventId(100071), "Failed to address message", Thrown(new OrleansException(noSilo)), (s, _) => s);
        }

        Assert.Equal(LogLevel.Warning, Assert.Single(messaging.Entries).Level);

        // Any other OrleansException is not an expected failure and keeps its detail.
        logger.Log(LogLevel.Error, new EventId(100071), "Failed to address message", Thrown(new OrleansException("grain type not registered")), (s, _) => s);
        Assert.NotNull(messaging.Entries.Last().Exception);
    }

    [Fact]
    public void PerMessageWarningsRepeatOncePerWindowAndAWindowEndsOnItsOwnAfterFiveMinutes()
    {
        var (capture, repeats, logger) = Setup("Orleans.Runtime.Messaging.Connection");
        for (int i = 0; i < 10; i++)
        {
            logger.LogWarning(new EventId(3), "Attempting to send message addressed to an old incarnation");
        }

        Assert.Single(capture.Entries);
        _now += RepeatSuppressor.MaxWindow + TimeSpan.FromSeconds(1);
        logger.LogWarning(new EventId(3), "Attempting to send message addressed to an old incarnation");

        // The expired window's summary, then the first entry of the new one.
        Assert.Equal(3, capture.Entries.Count);
        Assert.Contains("9 x Orleans.Runtime.Messaging.Connection[3]", capture.Entries.ElementAt(1).Text);
        Assert.Null(repeats.EndWindow());

        // Information without an exception is never touched, even in a per-message category.
        logger.LogInformation(new EventId(4), "connected");
        logger.LogInformation(new EventId(4), "connected");
        Assert.Equal(5, capture.Entries.Count);
    }

    [Theory]
    [InlineData("Simple", "simple")]
    [InlineData("json", "json")]
    public void TheSiloLogsThroughTheCondensingProviderInTheConfiguredFormatWithUtcTimestamps(string format, string formatter)
    {
        string root = Path.Combine(Path.GetTempPath(), "nokv-logging-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            // Built, not started: nothing binds a port or opens the store.
            var settings = new SiloSettings { StoreId = 1, DataDirectory = Path.Combine(root, "data"), LogFormat = format };
            using var host = SiloHostFactory.Build([], new ConfigurationBuilder().Build(), settings, ClusteringProvider.Localhost);
            var providers = host.Services.GetServices<ILoggerProvider>().ToList();
            Assert.Contains(providers, p => p is CondensingLoggerProvider);
            Assert.DoesNotContain(providers, p => p is ConsoleLoggerProvider);
            Assert.Equal(formatter, host.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
            var simple = host.Services.GetRequiredService<IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue;
            var json = host.Services.GetRequiredService<IOptionsMonitor<JsonConsoleFormatterOptions>>().CurrentValue;
            var options = formatter == "json" ? (ConsoleFormatterOptions)json : simple;
            Assert.True(options.UseUtcTimestamp);
            Assert.StartsWith(ConsoleLogging.TimestampFormat, options.TimestampFormat);
            if (formatter == "simple")
            {
                Assert.True(simple.SingleLine);
            }
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    [Fact]
    public void AnUnknownLogFormatIsAConfigurationError()
    {
        var error = Assert.Throws<StartupError>(() => PreflightChecks.Run(new SiloSettings { StoreId = 1, LogFormat = "xml", DataDirectory = Path.GetTempPath() }));
        Assert.Equal(StartupError.InvalidConfiguration, error.ExitCode);
        Assert.Contains("Unknown log format 'xml'", error.Message);
    }

    private (CapturingLoggerProvider Capture, RepeatSuppressor Repeats, ILogger Logger) Setup(string category)
    {
        var capture = new CapturingLoggerProvider();
        var repeats = new RepeatSuppressor(() => _now);
        var provider = new CondensingLoggerProvider(capture, repeats);
        return (capture, repeats, provider.CreateLogger(category));
    }

    /// <summary>The exception as thrown, so it carries a stack trace like the runtime's do.</summary>
    private static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
