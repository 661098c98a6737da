namespace NoKv.Silo.Configuration;

/// <summary>
/// The silo's Redis-protocol gateway ("Resp" section; NOKV_RESP__PORT; --resp-port, --resp-bind). On by default:
/// store N listens on 127.0.0.1:6379+N (6380-6382 for a three-store cluster). See docs/resp.md.
/// </summary>
public sealed class RespSettings
{
    public bool Enabled { get; set; } = true;

    /// <summary>Address to bind (loopback by default; the gateway has no TLS).</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>Port; null means 6379 + StoreId.</summary>
    public int? Port { get; set; }

    /// <summary>When set, clients must AUTH with it first.</summary>
    public string? Password { get; set; }

    /// <summary>A file holding the password (its first line), read at start instead of <see cref="Password"/> so the secret stays out of configuration and environment.</summary>
    public string? PasswordFile { get; set; }

    public int MaxConnections { get; set; } = 10_000;

    public int EffectivePort(int storeId) => Port ?? (6379 + storeId);
}
