using NoKv.Resp.Protocol;

namespace NoKv.Resp.Commands;

/// <summary>The options of SET (NX | XX, GET, EX | PX | EXAT | PXAT | KEEPTTL), parsed as redis-server does.</summary>
internal readonly record struct SetOptions(bool Nx, bool Xx, bool Get, bool Expiry, bool KeepTtl, string? Error)
{
    /// <summary>Whether SET must read the key first (to decide NX/XX or to return the old value).</summary>
    public bool ReadsKey => Error is null && (Nx || Xx || Get);

    public static SetOptions Parse(RespRequest args)
    {
        bool nx = false, xx = false, get = false, expiry = false, keepTtl = false;
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
            }
            else if ((args.Is(i, "EX"u8) || args.Is(i, "PX"u8) || args.Is(i, "EXAT"u8) || args.Is(i, "PXAT"u8)) && !expiry && !keepTtl && hasNext)
            {
                if (!RespAscii.TryParseInt64(args[i + 1], out long time))
                {
                    return new(nx, xx, get, expiry, keepTtl, RespErrors.NotInteger);
                }

                if (time <= 0)
                {
                    return new(nx, xx, get, expiry, keepTtl, RespErrors.InvalidExpire("set"));
                }

                expiry = true;
                i++;
            }
            else
            {
                return new(nx, xx, get, expiry, keepTtl, RespErrors.Syntax);
            }
        }

        // KEEPTTL needs nothing: no key carries a time to live. A new one cannot be set yet.
        return new(nx, xx, get, expiry, keepTtl, expiry ? RespErrors.ExpiryUnsupported : null);
    }
}
