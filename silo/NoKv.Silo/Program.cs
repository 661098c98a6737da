using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoKv.Grains.Store;
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
    // Crash-only on a store that can persist nothing (a full or failing disk): exit so that the supervisor restarts
    // the silo, rather than serve on with replicas that cannot vote or append (the other replicas of each shard elect
    // without this one, and clients stop waiting on it). A bounded clean stop first tells the other silos at once.
    var shutdown = host.WaitForShutdownAsync();
    var writesStopped = host.Services.GetRequiredService<LocalStore>().WritesStopped;
    if (await Task.WhenAny(shutdown, writesStopped) == writesStopped)
    {
        var error = await writesStopped;
        Console.Error.WriteLine($"nokv-silo: the store's engine stopped accepting writes ({error.Message}); exiting with code {StartupError.StorageFailed} so that a supervisor restarts the silo");
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await host.StopAsync(stopTimeout.Token);
        }
        catch (Exception)
        {
            // A store whose disk fails may fail to close too; the exit is what matters.
        }

        return StartupError.StorageFailed;
    }
}

return 0;
