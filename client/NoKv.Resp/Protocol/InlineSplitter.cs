namespace NoKv.Resp.Protocol;

/// <summary>
/// Splits an inline command line into arguments the way redis-server does: whitespace separates, "double
/// quotes" take \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes' take only \', and a closing quote must
/// be followed by whitespace or the end of the line.
/// </summary>
internal static class InlineSplitter
{
    /// <summary>False when the quotes do not balance or there are more than <paramref name="maxArguments"/>.</summary>
    public static bool TrySplit(ReadOnlySpan<byte> line, RespRequest request, int maxArguments)
    {
        var current = new List<byte>();
        int i = 0;
        while (true)
        {
            while (i < line.Length && IsSpace(line[i]))
            {
                i++;
            }

            if (i >= line.Length)
            {
                return true;
            }

            if (request.Count >= maxArguments)
            {
                return false;
            }

            current.Clear();
            bool inDouble = false, inSingle = false, done = false;
            while (!done)
            {
                if (inDouble)
                {
                    if (i >= line.Length)
                    {
                        return false;
                    }

                    byte c = line[i];
                    if (c == (byte)'\\' && i + 3 < line.Length && line[i + 1] == (byte)'x' && IsHex(line[i + 2]) && IsHex(line[i + 3]))
                    {
                        current.Add((byte)((Hex(line[i + 2]) << 4) | Hex(line[i + 3])));
                        i += 3;
                    }
                    else if (c == (byte)'\\' && i + 1 < line.Length)
                    {
                        i++;
                        current.Add(line[i] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            var other => other,
                        });
                    }
                    else if (c == (byte)'"')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else
                    {
                        current.Add(c);
                    }
                }
                else if (inSingle)
                {
                    if (i >= line.Length)
                    {
                        return false;
                    }

                    byte c = line[i];
                    if (c == (byte)'\\' && i + 1 < line.Length && line[i + 1] == (byte)'\'')
                    {
                        i++;
                        current.Add((byte)'\'');
                    }
                    else if (c == (byte)'\'')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else
                    {
                        current.Add(c);
                    }
                }
                else if (i >= line.Length || IsSpace(line[i]))
                {
                    done = true;
                }
                else if (line[i] == (byte)'"')
                {
                    inDouble = true;
                }
                else if (line[i] == (byte)'\'')
                {
                    inSingle = true;
                }
                else
                {
                    current.Add(line[i]);
                }

                if (i < line.Length)
                {
                    i++;
                }
            }

            request.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(current));
        }
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private static bool IsHex(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f') or (>= (byte)'A' and <= (byte)'F');

    private static int Hex(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => b - 'A' + 10,
    };
}
