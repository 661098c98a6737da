namespace NoKv.Resp.Protocol;

/// <summary>ASCII helpers over raw protocol bytes (command names and options are ASCII; keys never go through here).</summary>
internal static class RespAscii
{
    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> upper)
    {
        if (value.Length != upper.Length)
        {
            return false;
        }

        for (int i = 0; i < value.Length; i++)
        {
            byte b = value[i];
            if (b is >= (byte)'a' and <= (byte)'z')
            {
                b -= 32;
            }

            if (b != upper[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Redis's string2ll: an optional '-', digits, no spaces, no leading '+' or zeros, fits in a long.</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 20)
        {
            return false;
        }

        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }

        bool negative = text[0] == (byte)'-';
        int i = negative ? 1 : 0;
        if (i == text.Length || text[i] is < (byte)'1' or > (byte)'9')
        {
            return false;
        }

        ulong magnitude = 0;
        for (; i < text.Length; i++)
        {
            uint digit = (uint)(text[i] - '0');
            if (digit > 9)
            {
                return false;
            }

            if (magnitude > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }

            magnitude = (magnitude * 10) + digit;
        }

        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = (long)(0 - magnitude);
            return true;
        }

        if (magnitude > long.MaxValue)
        {
            return false;
        }

        value = (long)magnitude;
        return true;
    }

    /// <summary>Printable form of a protocol argument for error messages (Redis quotes the first bytes of unknown commands).</summary>
    public static string Printable(ReadOnlySpan<byte> bytes, int max = 128)
    {
        var chars = new System.Text.StringBuilder(Math.Min(bytes.Length, max));
        for (int i = 0; i < bytes.Length && i < max; i++)
        {
            byte b = bytes[i];
            chars.Append(b is >= 0x20 and < 0x7f ? (char)b : '?');
        }

        return chars.ToString();
    }
}
