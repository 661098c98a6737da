using System.Security.Cryptography;

namespace NoKv.Abstractions.Security;

/// <summary>
/// One shared authentication key: an id that travels in every token (so a key ring can hold old and new keys during a
/// rotation) and a secret that never leaves the process. <see cref="ToString"/> names the id only, so a key that ends
/// up in a log message or an exception leaks nothing.
/// </summary>
public sealed class NoKvKey
{
    /// <summary>Shortest secret accepted, in characters (a 256-bit random value in base64 is 44).</summary>
    public const int MinSecretLength = 32;

    /// <summary>Longest key id; ids are 1 to this many of A-Z a-z 0-9 _ -.</summary>
    public const int MaxIdLength = 32;

    private readonly byte[] _secret;

    /// <exception cref="ArgumentException">The id is not 1-32 of A-Z a-z 0-9 _ -, or the secret is shorter than <see cref="MinSecretLength"/> characters.</exception>
    public NoKvKey(string id, string secret)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(secret);
        if (!IsValidId(id))
        {
            throw new ArgumentException($"A key id must be 1 to {MaxIdLength} of A-Z a-z 0-9 _ -; '{Printable(id)}' is not.", nameof(id));
        }

        if (secret.Length < MinSecretLength)
        {
            // The length is safe to say; the secret itself never appears in a message.
            throw new ArgumentException($"The secret of key '{id}' has {secret.Length} characters; at least {MinSecretLength} are required (e.g. 'openssl rand -base64 32').", nameof(secret));
        }

        Id = id;
        _secret = System.Text.Encoding.UTF8.GetBytes(secret);
    }

    public string Id { get; }

    /// <summary>Writes HMAC-SHA256(secret, <paramref name="payload"/>) to <paramref name="mac"/> (32 bytes).</summary>
    public void Sign(ReadOnlySpan<byte> payload, Span<byte> mac) => HMACSHA256.HashData(_secret, payload, mac);

    public override string ToString() => $"key '{Id}'";

    /// <summary>True when <paramref name="id"/> is 1 to <see cref="MaxIdLength"/> of A-Z a-z 0-9 _ -.</summary>
    public static bool IsValidId(ReadOnlySpan<char> id)
    {
        if (id.IsEmpty || id.Length > MaxIdLength)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    internal static string Printable(string text)
    {
        var shown = text.Length > MaxIdLength + 8 ? text[..(MaxIdLength + 8)] + "..." : text;
        return string.Create(shown.Length, shown, static (span, s) =>
        {
            for (int i = 0; i < s.Length; i++)
            {
                span[i] = s[i] is >= ' ' and <= '~' ? s[i] : '?';
            }
        });
    }
}
