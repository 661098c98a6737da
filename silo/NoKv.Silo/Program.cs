using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using NoKv.Silo.Configuration;
using NoKv.Silo.Startup;

// The NoKV silo: configuration -> preflight checks -> Orleans host. Operator-fixable failures print one
// line and exit with the code documented on StartupError; anything else is a bug and keeps its stack trace.
var configuration = new ConfigurationBuilder()
    .SetBasePath(AppContext.BaseDirectory)
    .AddJsonFile("appsettings.json", optional: true)
    .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
    .AddEnvironmentVariables(prefix: "NOKV_")
    .AddCommandLine(args, CommandLineSwitches.Map)
    .Build();

var settings = new SiloSettings();
try
{
    configuration.Bind(settings);
    var provider = PreflightChecks.Run(settings);
    using var host = SiloHostFactory.Build(args, configuration, settings, provider);
    await host.RunAsync();
    return 0;
}
catch (Exception e) when (StartupFailure.Describe(e) is { } failure)
{
    Console.Error.WriteLine($"nokv-silo: {failure.Message}");
    return failure.ExitCode;
}
