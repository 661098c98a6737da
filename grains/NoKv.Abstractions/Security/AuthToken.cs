using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NoKv.Abstractions.Security;

/// <summary>
/// The credential a call carries: a short-lived bearer token signed with a shared key.
/// <code>
/// token   = "v1" "." key-id "." principal "." issued "." nonce "." mac
/// issued  = decimal Unix milliseconds at which the token was made
/// nonce   = 16 lowercase hex digits, random per token
/// mac     = base64url, unpadded, of HMAC-SHA256(secret of key-id, every byte before the last ".")
/// </code>
/// Key ids and principals cannot contain ".", so the signed text parses one way only, and the "v1" at its start keeps
/// a MAC of this format from ever validating as another. The token is not bound to the request it rides on: whoever
/// sees one may use it until it leaves the clock-skew window (docs/security.md, "Threats"). A verifier accepts a token
/// only while |now - issued| is within its window, which bounds that replay; the signature is checked before the time,
/// so an expired answer proves the signature was right.
/// </summary>
public static class AuthToken
{
    /// <summary>Longest token accepted; anything longer is Malformed without further work.</summary>
    public const int MaxLength = 256;

    /// <summary>Longest principal; principals are 1 to this many of A-Z a-z 0-9 _ - : @.</summary>
    public const int MaxPrincipalLength = 64;

    private const string Version = "v1";
    private const int MacBytes = 32;
    private const int MacChars = 43;
    private const int NonceDigits = 16;

    private static readonly System.Buffers.SearchValues<char> MacAlphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>Makes a token for <paramref name="principal"/>, signed with <paramref name="key"/>, issued at <paramref name="issuedUnixMs"/>.</summary>
    public static string Create(NoKvKey key, string principal, long issuedUnixMs, ulong nonce)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!IsValidPrincipal(principal))
        {
            throw new ArgumentException($"A principal must be 1 to {MaxPrincipalLength} of A-Z a-z 0-9 _ - : @; '{NoKvKey.Printable(principal ?? "")}' is not.", nameof(principal));
        }

        if (issuedUnixMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(issuedUnixMs), issuedUnixMs, "Issue times are Unix milliseconds, not negative.");
        }

        string signed = string.Create(CultureInfo.InvariantCulture, $"{Version}.{key.Id}.{principal}.{issuedUnixMs}.{nonce:x16}");
        Span<byte> mac = stackalloc byte[MacBytes];
        key.Sign(Encoding.ASCII.GetBytes(signed), mac);
        return signed + "." + Base64Url.EncodeToString(mac);
    }

    /// <summary>Makes a token with a fresh random nonce.</summary>
    public static string Create(NoKvKey key, string principal, long issuedUnixMs)
    {
        Span<byte> nonce = stackalloc byte[8];
        RandomNumberGenerator.Fill(nonce);
        return Create(key, principal, issuedUnixMs, BitConverter.ToUInt64(nonce));
    }

    /// <summary>
    /// Checks <paramref name="token"/> against <paramref name="keys"/> at <paramref name="nowUnixMs"/>: well formed,
    /// a known key id, a matching signature, and issued within <paramref name="maxClockSkew"/> of now either way.
    /// Never throws for any input.
    /// </summary>
    public static AuthTokenCheck Verify(string? token, NoKvKeyRing keys, long nowUnixMs, TimeSpan maxClockSkew)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (string.IsNullOrEmpty(token))
        {
            return new AuthTokenCheck(AuthTokenOutcome.Missing, null, null, 0);
        }

        if (token.Length > MaxLength || !Ascii.IsValid(token))
        {
            return new AuthTokenCheck(AuthTokenOutcome.Malformed, null, null, 0);
        }

        // v1 . key . principal . issued . nonce . mac
        Span<Range> parts = stackalloc Range[7];
        var text = token.AsSpan();
        if (text.Split(parts, '.') != 6 || !text[parts[0]].SequenceEqual(Version))
        {
            return new AuthTokenCheck(AuthTokenOutcome.Malformed, null, null, 0);
        }

        var keyId = text[parts[1]];
        var principal = text[parts[2]];
        var issuedText = text[parts[3]];
        var nonce = text[parts[4]];
        var macText = text[parts[5]];
        if (!NoKvKey.IsValidId(keyId) || !IsValidPrincipal(principal) || !IsHex(nonce) || issuedText.Length is 0 or > 19
            || !long.TryParse(issuedText, NumberStyles.None, CultureInfo.InvariantCulture, out long issued))
        {
            return new AuthTokenCheck(AuthTokenOutcome.Malformed, null, null, 0);
        }

        Span<byte> presented = stackalloc byte[MacBytes + 2];
        if (macText.Length != MacChars || macText.ContainsAnyExcept(MacAlphabet) || !TryDecodeMac(macText, presented))
        {
            return new AuthTokenCheck(AuthTokenOutcome.Malformed, null, null, 0);
        }

        // The last of 43 characters carries 2 unused bits; only the canonical spelling is accepted, so one signature
        // has one token text (and a verified-token cache cannot be filled with spellings of one token).
        Span<char> canonical = stackalloc char[48];
        if (!Base64Url.TryEncodeToChars(presented[..MacBytes], canonical, out int canonicalLength) || !macText.SequenceEqual(canonical[..canonicalLength]))
        {
            return new AuthTokenCheck(AuthTokenOutcome.Malformed, null, null, 0);
        }

        string keyName = keyId.ToString();
        string principalName = principal.ToString();
        if (!keys.TryGet(keyName, out var key))
        {
            return new AuthTokenCheck(AuthTokenOutcome.UnknownKey, principalName, keyName, 0);
        }

        int signedLength = parts[5].Start.Value - 1;
        Span<byte> signed = stackalloc byte[signedLength];
        Encoding.ASCII.GetBytes(text[..signedLength], signed);
        Span<byte> expected = stackalloc byte[MacBytes];
        key.Sign(signed, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, presented[..MacBytes]))
        {
            return new AuthTokenCheck(AuthTokenOutcome.BadSignature, principalName, keyName, 0);
        }

        long skew = (long)maxClockSkew.TotalMilliseconds;
        if (nowUnixMs - issued > skew)
        {
            return new AuthTokenCheck(AuthTokenOutcome.Expired, principalName, keyName, 0);
        }

        if (issued - nowUnixMs > skew)
        {
            return new AuthTokenCheck(AuthTokenOutcome.NotYetValid, principalName, keyName, 0);
        }

        return new AuthTokenCheck(AuthTokenOutcome.Valid, principalName, keyName, issued + skew);
    }

    /// <summary>True when <paramref name="principal"/> is 1 to <see cref="MaxPrincipalLength"/> of A-Z a-z 0-9 _ - : @.</summary>
    public static bool IsValidPrincipal(ReadOnlySpan<char> principal)
    {
        if (principal.IsEmpty || principal.Length > MaxPrincipalLength)
        {
            return false;
        }

        foreach (char c in principal)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or ':' or '@'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryDecodeMac(ReadOnlySpan<char> text, Span<byte> mac)
    {
        try
        {
            return Base64Url.TryDecodeFromChars(text, mac, out int length) && length == MacBytes;
        }
        catch (FormatException)
        {
            // Base64Url throws rather than answering false for a final character with unused bits set.
            return false;
        }
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        if (text.Length != NonceDigits)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
