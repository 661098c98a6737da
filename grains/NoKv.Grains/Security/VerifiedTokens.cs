using System.Collections.Concurrent;

namespace NoKv.Grains.Security;

/// <summary>
/// Tokens this silo has verified, each with the instant it leaves the clock-skew window, so the steady state of an
/// authenticated call is one dictionary lookup instead of an HMAC. A client reuses a token for its issuer's refresh
/// interval, so a silo sees a few tokens per client per minute. Only valid tokens enter, so a flood of bad ones cannot
/// fill it; when it holds <see cref="Capacity"/> tokens anyway it starts over (each live token is verified once more).
/// </summary>
public sealed class VerifiedTokens
{
    public const int Capacity = 16_384;

    private readonly ConcurrentDictionary<string, long> _validUntil = new(StringComparer.Ordinal);

    public int Count => _validUntil.Count;

    /// <summary>True when <paramref name="token"/> was verified and is still inside its window at <paramref name="nowUnixMs"/>.</summary>
    public bool Contains(string token, long nowUnixMs) => _validUntil.TryGetValue(token, out long until) && nowUnixMs <= until;

    public void Add(string token, long validUntilUnixMs)
    {
        if (_validUntil.Count >= Capacity)
        {
            _validUntil.Clear();
        }

        _validUntil[token] = validUntilUnixMs;
    }
}
