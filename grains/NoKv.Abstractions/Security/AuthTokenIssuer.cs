namespace NoKv.Abstractions.Security;

/// <summary>
/// Hands out this process's current token, making a new one every <see cref="RefreshInterval"/> so a token in use is
/// never older than that (well inside any verifier's clock-skew window) while signing costs one HMAC per interval,
/// not one per call. Thread-safe and lock-free: two callers racing at a refresh may both mint, and either token is good.
/// </summary>
public sealed class AuthTokenIssuer
{
    /// <summary>How often a new token is made; verifiers must allow at least this much age plus clock skew.</summary>
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(20);

    private readonly NoKvKey _key;
    private readonly TimeProvider _time;
    private readonly long _refreshMs;
    private Minted? _current;

    public AuthTokenIssuer(NoKvKey key, string principal, TimeProvider time, TimeSpan? refreshInterval = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(time);
        if (!AuthToken.IsValidPrincipal(principal))
        {
            throw new ArgumentException($"A principal must be 1 to {AuthToken.MaxPrincipalLength} of A-Z a-z 0-9 _ - : @; '{NoKvKey.Printable(principal ?? "")}' is not.", nameof(principal));
        }

        _key = key;
        Principal = principal;
        _time = time;
        RefreshInterval = refreshInterval ?? DefaultRefreshInterval;
        _refreshMs = (long)RefreshInterval.TotalMilliseconds;
    }

    /// <summary>Who this process says it is (logged by the silo on refusals; not a secret).</summary>
    public string Principal { get; }

    public string KeyId => _key.Id;

    public TimeSpan RefreshInterval { get; }

    /// <summary>A token issued at most <see cref="RefreshInterval"/> ago (by this process's clock).</summary>
    public string Current
    {
        get
        {
            long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var current = Volatile.Read(ref _current);
            if (current is not null && now - current.IssuedUnixMs < _refreshMs && now >= current.IssuedUnixMs)
            {
                return current.Token;
            }

            var minted = new Minted(AuthToken.Create(_key, Principal, now), now);
            Volatile.Write(ref _current, minted);
            return minted.Token;
        }
    }

    private sealed record Minted(string Token, long IssuedUnixMs);
}
