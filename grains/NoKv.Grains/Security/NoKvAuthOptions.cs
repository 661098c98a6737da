using NoKv.Abstractions.Security;

namespace NoKv.Grains.Security;

/// <summary>
/// Client authentication on a silo (docs/security.md). When registered (AddNoKvAuthentication), every call to a NoKV
/// interface must carry a token signed with one of <see cref="Keys"/>, issued within <see cref="MaxClockSkew"/> of the
/// silo's clock; the silo signs its own calls with the first key.
/// </summary>
public sealed class NoKvAuthOptions
{
    /// <summary>Smallest window accepted: a token in use is up to the issuer's refresh interval old, plus real skew.</summary>
    public static readonly TimeSpan MinClockSkew = TimeSpan.FromSeconds(45);

    /// <summary>The keys accepted; the first also signs this silo's own calls. Required.</summary>
    public NoKvKeyRing? Keys { get; set; }

    /// <summary>
    /// How far a token's issue time may be from this silo's clock, either way: also how long a captured token can be
    /// replayed. Every silo and client clock must agree within it minus 20 s (keep NTP running).
    /// </summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The name this silo's own tokens carry; null means "silo:store-{StoreId}".</summary>
    public string? Principal { get; set; }
}
