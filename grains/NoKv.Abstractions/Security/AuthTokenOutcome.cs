namespace NoKv.Abstractions.Security;

/// <summary>Result of checking a token (<see cref="AuthToken.Verify"/>).</summary>
public enum AuthTokenOutcome
{
    Valid = 0,

    /// <summary>The call carried no token.</summary>
    Missing,

    /// <summary>Not a token of a version this build reads.</summary>
    Malformed,

    /// <summary>Signed with a key id the key ring does not hold.</summary>
    UnknownKey,

    /// <summary>The signature does not match: another secret, or an altered token.</summary>
    BadSignature,

    /// <summary>Issued longer ago than the clock-skew window allows (a replayed or stale token, or a slow clock).</summary>
    Expired,

    /// <summary>Issued further in the future than the clock-skew window allows (a fast clock).</summary>
    NotYetValid,
}
