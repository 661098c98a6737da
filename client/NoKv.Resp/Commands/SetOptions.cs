using NoKv.Resp.Execution;
using NoKv.Resp.Protocol;

namespace NoKv.Resp.Commands;

/// <summary>The options of SET (NX | XX, GET, EX | PX | EXAT | PXAT | KEEPTTL), parsed as redis-server does.</summary>
internal readonly record struct SetOptions(bool Nx, bool Xx, bool Get, ExpiryWrite Expiry, string? Error)
{
    /// <summary>Whether SET must read the key first (to decide NX/XX or to return the old value).</summary>
    public bool ReadsKey => Error is null && (Nx || Xx || Get);

    public static SetOptions Parse(RespRequest args)
    {
        bool nx = false, xx = false, get = false, expiry = false, keepTtl = false;
        var write = ExpiryWrite.Clear;
        for (int i = 3; i < args.Count; i++)
        {
            bool hasNext = i + 1 < args.Count;
            if (args.Is(i, "NX"u8) && !xx)
            {
                nx = true;
            }
            else if (args.Is(i, "XX"u8) && !nx)
            {
                xx = true;
            }
            else if (args.Is(i, "GET"u8))
            {
                get = true;
            }
            else if (args.Is(i, "KEEPTTL"u8) && !expiry)
            {
                keepTtl = true;
                write = ExpiryWrite.Keep;
            }
            else if ((args.Is(i, "EX"u8) || args.Is(i, "PX"u8) || args.Is(i, "EXAT"u8) || args.Is(i, "PXAT"u8)) && !expiry && !keepTtl && hasNext)
            {
                if (!RespAscii.TryParseInt64(args[i + 1], out long time))
                {
                    return new(nx, xx, get, write, RespErrors.NotInteger);
                }

                if (ParseExpiry(args, i, time) is not { } parsed)
                {
                    return new(nx, xx, get, write, RespErrors.InvalidExpire("set"));
                }

                write = parsed;
                expiry = true;
                i++;
            }
            else
            {
                return new(nx, xx, get, write, RespErrors.Syntax);
            }
        }

        return new(nx, xx, get, write, null);
    }

    /// <summary>
    /// The expiry of option <paramref name="at"/> (EX, PX, EXAT or PXAT) with <paramref name="time"/>; null when Redis
    /// calls it invalid (not positive, or too large once in milliseconds).
    /// </summary>
    public static ExpiryWrite? ParseExpiry(RespRequest args, int at, long time)
    {
        bool seconds = args.Is(at, "EX"u8) || args.Is(at, "EXAT"u8);
        bool absolute = args.Is(at, "EXAT"u8) || args.Is(at, "PXAT"u8);
        if (time <= 0 || (seconds && time > long.MaxValue / 1000))
        {
            return null;
        }

        long ms = seconds ? time * 1000 : time;
        return absolute ? ExpiryWrite.At(ms) : ExpiryWrite.Ttl(ms);
    }
}
