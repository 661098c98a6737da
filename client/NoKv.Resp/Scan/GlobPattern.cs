namespace NoKv.Resp.Scan;

/// <summary>
/// Redis's glob matching over binary keys (SCAN MATCH): * any run, ? one byte, [abc] [^abc] [a-z] sets, and \x
/// for a literal x. Iterative with one backtrack point for *, so a hostile pattern costs at most
/// O(pattern x key) per key, never exponential time.
/// </summary>
internal static class GlobPattern
{
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> key)
    {
        int p = 0, k = 0;
        int starP = -1, starK = 0;
        while (k < key.Length)
        {
            if (p < pattern.Length)
            {
                byte c = pattern[p];
                if (c == (byte)'*')
                {
                    while (p < pattern.Length && pattern[p] == (byte)'*')
                    {
                        p++;
                    }

                    if (p == pattern.Length)
                    {
                        return true;
                    }

                    starP = p;
                    starK = k;
                    continue;
                }

                if (MatchOne(pattern, p, key[k], out int next))
                {
                    p = next;
                    k++;
                    continue;
                }
            }

            if (starP < 0)
            {
                return false;
            }

            // Let the last * swallow one more byte and try again from just after it.
            p = starP;
            k = ++starK;
        }

        while (p < pattern.Length && pattern[p] == (byte)'*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>Whether the single-byte element at <paramref name="p"/> matches <paramref name="b"/>; <paramref name="next"/> is the index after it.</summary>
    private static bool MatchOne(ReadOnlySpan<byte> pattern, int p, byte b, out int next)
    {
        byte c = pattern[p];
        if (c == (byte)'?')
        {
            next = p + 1;
            return true;
        }

        if (c == (byte)'\\' && p + 1 < pattern.Length)
        {
            next = p + 2;
            return pattern[p + 1] == b;
        }

        if (c == (byte)'[')
        {
            int i = p + 1;
            bool negate = i < pattern.Length && pattern[i] == (byte)'^';
            if (negate)
            {
                i++;
            }

            bool matched = false;
            while (i < pattern.Length && pattern[i] != (byte)']')
            {
                if (pattern[i] == (byte)'\\' && i + 1 < pattern.Length)
                {
                    matched |= pattern[i + 1] == b;
                    i += 2;
                }
                else if (i + 2 < pattern.Length && pattern[i + 1] == (byte)'-' && pattern[i + 2] != (byte)']')
                {
                    byte lo = pattern[i], hi = pattern[i + 2];
                    if (lo > hi)
                    {
                        (lo, hi) = (hi, lo);
                    }

                    matched |= b >= lo && b <= hi;
                    i += 3;
                }
                else
                {
                    matched |= pattern[i] == b;
                    i++;
                }
            }

            // An unterminated set runs to the end of the pattern, as in Redis.
            next = i < pattern.Length ? i + 1 : i;
            return matched != negate;
        }

        next = p + 1;
        return c == b;
    }
}
