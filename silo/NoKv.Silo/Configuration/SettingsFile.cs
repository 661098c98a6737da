using NoKv.Silo.Startup;

namespace NoKv.Silo.Configuration;

/// <summary>
/// The explicit settings file of <c>--config FILE</c> (for a VM: <c>/etc/nokv/nokv.json</c>, see deploy/systemd). It is
/// read after the appsettings.json files and before the environment and the command line, so per-host values
/// (NOKV_STOREID in a unit's environment file, --store-id) still override it.
/// </summary>
public static class SettingsFile
{
    public const string Switch = "--config";

    /// <summary>The file named by <c>--config FILE</c> or <c>--config=FILE</c>, or null without one.</summary>
    /// <exception cref="StartupError">The switch has no value, or the file does not exist (exit code 2).</exception>
    public static string? Find(string[] args)
    {
        string? path = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == Switch)
            {
                path = i + 1 < args.Length ? args[i + 1] : throw new StartupError(StartupError.InvalidConfiguration, $"{Switch} needs a file name.");
            }
            else if (args[i].StartsWith(Switch + "=", StringComparison.Ordinal))
            {
                path = args[i][(Switch.Length + 1)..];
            }
        }

        if (path is null)
        {
            return null;
        }

        string full = Path.GetFullPath(path);
        return File.Exists(full) ? full : throw new StartupError(StartupError.InvalidConfiguration, $"settings file '{full}' ({Switch}) does not exist.");
    }
}
