using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using NoKv.Silo.Configuration;

namespace NoKv.Silo.Logging;

/// <summary>
/// The silo's console log: one line per entry with a UTC timestamp and a level (or one JSON object per line),
/// expected failures condensed (<see cref="CondensingLoggerProvider"/>), peers going down and coming back
/// reported once each (<see cref="PeerStatusReporter"/>). The console is the only provider: the local
/// cluster script and systemd both collect it.
/// </summary>
public static class ConsoleLogging
{
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";

    public static void Configure(ILoggingBuilder logging, LogFormat format)
    {
        logging.ClearProviders();
        if (format == LogFormat.Json)
        {
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = TimestampFormat;
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = TimestampFormat + " ";
            });
        }

        // Put the console provider behind the condensing one: same output, minus the routine stack traces.
        var services = logging.Services;
        var console = services.Single(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider));
        services.Remove(console);
        services.AddSingleton<ConsoleLoggerProvider>();
        services.AddSingleton<RepeatSuppressor>();
        services.AddSingleton<ILoggerProvider>(sp => new CondensingLoggerProvider(sp.GetRequiredService<ConsoleLoggerProvider>(), sp.GetRequiredService<RepeatSuppressor>()));
        services.AddHostedService<PeerStatusReporter>();
    }
}
