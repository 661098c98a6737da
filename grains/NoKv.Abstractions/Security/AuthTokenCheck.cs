namespace NoKv.Abstractions.Security;

/// <summary>What <see cref="AuthToken.Verify"/> found.</summary>
/// <param name="Outcome">Valid, or why not.</param>
/// <param name="Principal">The principal the token names; verified only when <paramref name="Outcome"/> is Valid, a claim otherwise (null when unreadable).</param>
/// <param name="KeyId">The key id the token names (null when unreadable).</param>
/// <param name="ValidUntilUnixMs">Last instant (Unix ms) at which a Valid token is still accepted.</param>
public readonly record struct AuthTokenCheck(AuthTokenOutcome Outcome, string? Principal, string? KeyId, long ValidUntilUnixMs)
{
    public bool IsValid => Outcome == AuthTokenOutcome.Valid;

    /// <summary>A sentence for the caller's error and the silo's log; never contains a secret or the token.</summary>
    public string Describe(TimeSpan maxClockSkew) => Outcome switch
    {
        AuthTokenOutcome.Valid => "valid",
        AuthTokenOutcome.Missing => "the call carries no credential (configure the client with a key the cluster holds)",
        AuthTokenOutcome.Malformed => "the credential is malformed",
        AuthTokenOutcome.UnknownKey => $"the credential names key '{KeyId}', which this cluster does not hold",
        AuthTokenOutcome.BadSignature => $"the credential of '{Principal}' with key '{KeyId}' has a bad signature (wrong secret, or altered)",
        AuthTokenOutcome.Expired => $"the credential of '{Principal}' was issued more than {maxClockSkew.TotalSeconds:F0} s ago (replayed, or the client's clock is slow)",
        AuthTokenOutcome.NotYetValid => $"the credential of '{Principal}' was issued more than {maxClockSkew.TotalSeconds:F0} s in the future (the client's clock is fast)",
        _ => Outcome.ToString(),
    };
}
