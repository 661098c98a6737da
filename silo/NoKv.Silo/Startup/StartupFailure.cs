using Microsoft.Extensions.Options;
using NoKv.Grains.Store;
using Orleans.Runtime;

namespace NoKv.Silo.Startup;

/// <summary>Recognises operator-fixable failures, however deep the runtime wrapped them.</summary>
public static class StartupFailure
{
    public static StartupError? Describe(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case StartupError error:
                    return error;
                case StoreStartupException store:
                    return new StartupError(StartupError.StoreUnusable, store.Message);
                case IOException io when PreflightChecks.IsDiskFull(io):
                    return new StartupError(StartupError.StorageFailed, $"the store's disk is full: {io.Message}");
                case OptionsValidationException options:
                    return new StartupError(StartupError.InvalidConfiguration, string.Join(" ", options.Failures));
                case OrleansConfigurationException orleans:
                    return new StartupError(StartupError.InvalidConfiguration, orleans.Message);
                case InvalidOperationException binding when binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal):
                    return new StartupError(StartupError.InvalidConfiguration, binding.Message);
                case AggregateException aggregate when aggregate.InnerExceptions.Count > 0:
                    foreach (var inner in aggregate.InnerExceptions)
                    {
                        if (Describe(inner) is { } found)
                        {
                            return found;
                        }
                    }

                    break;
            }
        }

        return null;
    }
}
