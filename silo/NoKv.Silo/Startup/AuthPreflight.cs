using NoKv.Abstractions.Security;
using NoKv.Silo.Configuration;

namespace NoKv.Silo.Startup;

/// <summary>
/// Start-up checks of the authentication and RESP password settings: the key ring and password file are read here, once,
/// so a missing, unreadable, world-readable or malformed one stops the silo with one sentence naming the file (never
/// its content) before any port opens.
/// </summary>
public static class AuthPreflight
{
    public static void Run(SiloSettings settings)
    {
        var auth = settings.Auth;
        if (auth.Enabled)
        {
            bool file = !string.IsNullOrWhiteSpace(auth.KeyFile);
            bool inline = !string.IsNullOrWhiteSpace(auth.Keys);
            if (file == inline)
            {
                throw new StartupError(StartupError.InvalidConfiguration, "Auth:Enabled needs exactly one of Auth:KeyFile (--auth-key-file, NOKV_AUTH__KEYFILE) and Auth:Keys (NOKV_AUTH__KEYS).");
            }

            if (auth.MaxClockSkew < TimeSpan.FromSeconds(45) || auth.MaxClockSkew > TimeSpan.FromHours(1))
            {
                throw new StartupError(StartupError.InvalidConfiguration, $"Auth:MaxClockSkew must be between 00:00:45 and 01:00:00 (got {auth.MaxClockSkew}).");
            }

            try
            {
                auth.SetLoadedKeys(file ? NoKvKeyRing.Parse(ReadSecretFile(auth.KeyFile!, "Auth:KeyFile"), auth.KeyFile!) : NoKvKeyRing.Parse(auth.Keys!, "Auth:Keys"));
            }
            catch (FormatException e)
            {
                throw new StartupError(StartupError.InvalidConfiguration, e.Message);
            }
        }

        if (settings.Resp.Enabled && !string.IsNullOrWhiteSpace(settings.Resp.PasswordFile))
        {
            if (settings.Resp.Password is not null)
            {
                throw new StartupError(StartupError.InvalidConfiguration, "Set one of Resp:Password and Resp:PasswordFile, not both.");
            }

            string password = ReadSecretFile(settings.Resp.PasswordFile, "Resp:PasswordFile").TrimEnd('\r', '\n');
            if (password.Length == 0)
            {
                throw new StartupError(StartupError.InvalidConfiguration, $"Resp:PasswordFile {settings.Resp.PasswordFile} is empty.");
            }

            settings.Resp.Password = password;
        }
    }

    /// <summary>Reads a file holding a secret, refusing one that every user of the machine may read.</summary>
    private static string ReadSecretFile(string path, string setting)
    {
        try
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.OtherRead) != 0)
            {
                throw new StartupError(StartupError.InvalidConfiguration, $"{setting} {path} is readable by every user; restrict it (chmod 0640, owned by root and the silo's group).");
            }

            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"{setting} {path} cannot be read: {e.Message}");
        }
    }
}
