using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using NoKv.Silo.Configuration;
using NoKv.Silo.Startup;

// The NoKV silo: configuration -> preflight checks -> Orleans host. Start-up failures print one line and
// exit with the code documented on StartupError; a failure after start keeps its stack trace (it is a bug
// or an environment fault worth the detail).
SocketCompletions.PreferInline();
IHost host;
try
{
    var builder = new ConfigurationBuilder()
        .SetBasePath(AppContext.BaseDirectory)
        .AddJsonFile("appsettings.json", optional: true)
        .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true);
    if (SettingsFile.Find(args) is { } settingsFile)
    {
        builder.AddJsonFile(settingsFile, optional: false);
    }

    var configuration = builder
        .AddEnvironmentVariables(prefix: "NOKV_")
        .AddCommandLine(args, CommandLineSwitches.Map)
        .Build();
    var settings = new SiloSettings();
    configuration.Bind(settings);
    var provider = PreflightChecks.Run(settings);
    host = SiloHostFactory.Build(args, configuration, settings, provider);
    await host.StartAsync();
}
catch (Exception e)
{
    var failure = StartupFailure.Describe(e) ?? new StartupError(StartupError.StartFailed, $"the silo failed to start: {e.GetType().Name}: {e.Message}");
    Console.Error.WriteLine($"nokv-silo: {failure.Message}");
    return failure.ExitCode;
}

using (host)
{
    await host.WaitForShutdownAsync();
}

return 0;
