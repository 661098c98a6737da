using NoKv.Abstractions.Errors;
using NoKv.Resp.Execution;
using NoKv.Resp.Protocol;
using NoKv.Resp.Scan;
using NoKv.Resp.Server;

namespace NoKv.Resp.Commands;

/// <summary>
/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. COUNT keys are examined per call (in key order, across
/// shards) and those matching are returned; the cursor resumes after the last key examined (see
/// <see cref="ScanCursorTable"/>). Redis's guarantees hold and are strengthened: every key present from the
/// first call to the last is returned, and exactly once.
/// </summary>
internal static class ScanCommand
{
    private const int DefaultCount = 10;

    public static async ValueTask Scan(RespConnection connection, RespRequest args)
    {
        var server = connection.Server;
        var writer = connection.Writer;
        if (!TryParseCursor(args[1], out long cursor))
        {
            writer.WriteError(RespErrors.InvalidCursor);
            return;
        }

        byte[]? pattern = null;
        long count = DefaultCount;
        bool stringsOnly = true;
        for (int i = 2; i < args.Count; i += 2)
        {
            if (i + 1 >= args.Count)
            {
                writer.WriteError(RespErrors.Syntax);
                return;
            }

            if (args.Is(i, "MATCH"u8))
            {
                pattern = args.ToArray(i + 1);
            }
            else if (args.Is(i, "COUNT"u8))
            {
                if (!RespAscii.TryParseInt64(args[i + 1], out count))
                {
                    writer.WriteError(RespErrors.NotInteger);
                    return;
                }

                if (count < 1)
                {
                    writer.WriteError(RespErrors.Syntax);
                    return;
                }
            }
            else if (args.Is(i, "TYPE"u8))
            {
                // Every NoKV value is a string; any other type matches nothing.
                stringsOnly = args.Is(i + 1, "STRING"u8);
            }
            else
            {
                writer.WriteError(RespErrors.Syntax);
                return;
            }
        }

        byte[] start = [];
        if (cursor != 0)
        {
            if (!server.Cursors.TryGet(cursor, out var lastKey))
            {
                writer.WriteError(RespErrors.InvalidCursor + " (NoKV cursors live on the gateway that issued them, for a limited time)");
                return;
            }

            if (Successor(lastKey, server.Options.MaxKeyBytes) is not { } after)
            {
                // lastKey was the greatest possible key: nothing can follow it.
                writer.WriteArrayHeader(2);
                writer.WriteBulk("0"u8);
                writer.WriteArrayHeader(0);
                return;
            }

            start = after;
        }

        int limit = (int)Math.Min(count, server.Options.MaxScanCount);
        var keys = new List<byte[]>();
        byte[]? last = null;
        int examined = 0;
        try
        {
            await foreach (var entry in server.Store.ScanAsync(start, ReadOnlyMemory<byte>.Empty, limit, cancellationToken: connection.Aborted).ConfigureAwait(false))
            {
                examined++;
                last = entry.Key;
                if (stringsOnly && (pattern is null || GlobPattern.IsMatch(pattern, entry.Key)))
                {
                    keys.Add(entry.Key);
                }
            }
        }
        catch (NoKvException e)
        {
            writer.WriteError(CommandExecutor.ErrorText(e));
            return;
        }

        long next = examined < limit || last is null ? 0 : server.Cursors.Add(last);
        writer.WriteArrayHeader(2);
        writer.WriteBulk(next.ToString(System.Globalization.CultureInfo.InvariantCulture));
        writer.WriteArrayHeader(keys.Count);
        foreach (var key in keys)
        {
            writer.WriteBulk(key);
        }
    }

    /// <summary>
    /// The smallest key greater than <paramref name="key"/> among keys of at most <paramref name="maxKeyBytes"/> bytes:
    /// the key with a zero byte appended; for a key already of the largest size, the key cut after its last byte that
    /// can be incremented, incremented. Null when no key follows (all 0xFF at the largest size).
    /// </summary>
    internal static byte[]? Successor(byte[] key, int maxKeyBytes)
    {
        if (key.Length < maxKeyBytes)
        {
            var next = new byte[key.Length + 1];
            key.CopyTo(next, 0);
            return next;
        }

        for (int i = Math.Min(key.Length, maxKeyBytes) - 1; i >= 0; i--)
        {
            if (key[i] != 0xFF)
            {
                var next = key.AsSpan(0, i + 1).ToArray();
                next[i]++;
                return next;
            }
        }

        return null;
    }

    /// <summary>A cursor is an unsigned decimal (Redis's rule); ours are below 2^63.</summary>
    private static bool TryParseCursor(ReadOnlySpan<byte> text, out long cursor)
    {
        cursor = 0;
        if (text.IsEmpty || text.Length > 20)
        {
            return false;
        }

        ulong value = 0;
        foreach (byte b in text)
        {
            uint digit = (uint)(b - '0');
            if (digit > 9 || value > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        // A number no gateway issued (at or above 2^63) is simply unknown.
        cursor = value > long.MaxValue ? -1 : (long)value;
        return true;
    }
}
