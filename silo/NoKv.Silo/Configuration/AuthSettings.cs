using NoKv.Abstractions.Security;

namespace NoKv.Silo.Configuration;

/// <summary>
/// Client authentication ("Auth" section; NOKV_AUTH__ENABLED, NOKV_AUTH__KEYFILE; --auth, --auth-key-file). Off by
/// default (the local cluster); the VM examples turn it on. See docs/security.md.
/// </summary>
public sealed class AuthSettings
{
    private NoKvKeyRing? _keys;

    /// <summary>Require a signed token on every client call (and sign this silo's own).</summary>
    public bool Enabled { get; set; }

    /// <summary>A key file ('id:secret' lines; the first key signs). Must not be readable by other users.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Key text itself ('id:secret' entries separated by ';'), for environments that pass secrets as variables (NOKV_AUTH__KEYS).</summary>
    public string? Keys { get; set; }

    /// <summary>How far a token's issue time may be from this silo's clock; also how long a captured token can be replayed.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The keys, once the preflight checks have loaded them; null when authentication is off.</summary>
    public NoKvKeyRing? LoadedKeys() => _keys;

    internal void SetLoadedKeys(NoKvKeyRing keys) => _keys = keys;

    /// <summary>Never prints a secret: only whether keys were given and where from.</summary>
    public override string ToString() => Enabled
        ? $"auth on ({(KeyFile is not null ? $"key file {KeyFile}" : "keys from configuration")}, skew {MaxClockSkew})"
        : "auth off";
}
