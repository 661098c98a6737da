using System.Text;

namespace NoKv.Abstractions.Sharding;

/// <summary>Renders keys for logs, errors and the CLI: printable ASCII as is, other bytes as \xNN.</summary>
public static class KeyFormatter
{
    private const int MaxShown = 64;

    public static string Format(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty)
        {
            return "\"\"";
        }

        var sb = new StringBuilder(key.Length + 2);
        sb.Append('"');
        int shown = Math.Min(key.Length, MaxShown);
        for (int i = 0; i < shown; i++)
        {
            byte b = key[i];
            if (b is >= 0x20 and < 0x7f && b != (byte)'\\' && b != (byte)'"')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        sb.Append('"');
        if (key.Length > shown)
        {
            sb.Append("...(").Append(key.Length).Append(" bytes)");
        }

        return sb.ToString();
    }
}
