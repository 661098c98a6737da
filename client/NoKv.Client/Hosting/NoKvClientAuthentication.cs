using NoKv.Abstractions.Security;

namespace NoKv.Client.Hosting;

/// <summary>
/// Where a client finds its key when the application does not hand one over: the same environment variables a silo
/// reads (docs/security.md), so one env file serves both. <c>NOKV_AUTH__KEYFILE</c> names a key file;
/// <c>NOKV_AUTH__KEYS</c> holds key text itself ('id:secret' entries separated by ';'). The first key is used.
/// </summary>
public static class NoKvClientAuthentication
{
    public const string KeyFileVariable = "NOKV_AUTH__KEYFILE";

    public const string KeysVariable = "NOKV_AUTH__KEYS";

    /// <summary>The key ring named by the environment, or null when neither variable is set.</summary>
    /// <exception cref="FormatException">The key text is not a key ring (the message names the variable or file, never a secret).</exception>
    /// <exception cref="IOException">The key file cannot be read.</exception>
    public static NoKvKeyRing? FromEnvironment()
    {
        string? file = Environment.GetEnvironmentVariable(KeyFileVariable);
        if (!string.IsNullOrWhiteSpace(file))
        {
            return NoKvKeyRing.Load(file);
        }

        string? text = Environment.GetEnvironmentVariable(KeysVariable);
        return string.IsNullOrWhiteSpace(text) ? null : NoKvKeyRing.Parse(text, KeysVariable);
    }

    /// <summary>A principal naming this host: "client:" and the machine name, reduced to the characters a principal may hold.</summary>
    public static string DefaultPrincipal()
    {
        var name = new System.Text.StringBuilder("client:");
        foreach (char c in Environment.MachineName)
        {
            if (name.Length >= AuthToken.MaxPrincipalLength)
            {
                break;
            }

            name.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '-');
        }

        return name.Length > "client:".Length ? name.ToString() : "client:unknown";
    }
}
