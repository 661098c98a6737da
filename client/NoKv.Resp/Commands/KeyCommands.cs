using NoKv.Resp.Execution;
using NoKv.Resp.Protocol;

namespace NoKv.Resp.Commands;

/// <summary>The generic key commands, as key transitions (see <see cref="KeyView"/>).</summary>
internal static class KeyCommands
{
    public static RespReply Del(RespRequest args, KeyView view)
    {
        long removed = 0;
        for (int i = 1; i < args.Count; i++)
        {
            if (view.Get(args[i]) is not null)
            {
                view.Set(args[i], null);
                removed++;
            }
        }

        return RespReply.Int(removed);
    }

    public static RespReply Exists(RespRequest args, KeyView view)
    {
        long present = 0;
        for (int i = 1; i < args.Count; i++)
        {
            if (view.Get(args[i]) is not null)
            {
                present++;
            }
        }

        return RespReply.Int(present);
    }

    /// <summary>TTL, PTTL: -2 for a missing key, -1 for one without expiry, else what it has left (seconds rounded, or ms).</summary>
    public static RespReply Ttl(RespRequest args, KeyView view)
    {
        long remaining = view.RemainingMs(args[1]);
        return RespReply.Int(remaining < 0 || args.Is(0, "PTTL"u8) ? remaining : (remaining + 500) / 1000);
    }

    /// <summary>EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 for one without expiry, else the Unix time it expires (s or ms).</summary>
    public static RespReply ExpireTime(RespRequest args, KeyView view)
    {
        long remaining = view.RemainingMs(args[1]);
        if (remaining < 0)
        {
            return RespReply.Int(remaining);
        }

        long at = view.ExpiresAtMs(args[1]);
        return RespReply.Int(args.Is(0, "PEXPIRETIME"u8) ? at : at / 1000);
    }

    /// <summary>
    /// EXPIRE, PEXPIRE (relative), EXPIREAT, PEXPIREAT (absolute) with NX | XX | GT | LT, as Redis 7: 1 when the expiry
    /// was set (a time already past deletes the key), 0 when the key is missing or the condition fails. Only the expiry
    /// changes; the value is written back unchanged with it, against the value read.
    /// </summary>
    public static RespReply Expire(RespRequest args, KeyView view)
    {
        string name = args.Is(0, "EXPIRE"u8) ? "expire" : args.Is(0, "PEXPIRE"u8) ? "pexpire" : args.Is(0, "EXPIREAT"u8) ? "expireat" : "pexpireat";
        bool seconds = name is "expire" or "expireat";
        bool absolute = name is "expireat" or "pexpireat";
        if (!RespAscii.TryParseInt64(args[2], out long time))
        {
            return RespReply.Error(RespErrors.NotInteger);
        }

        bool nx = false, xx = false, gt = false, lt = false;
        for (int i = 3; i < args.Count; i++)
        {
            if (args.Is(i, "NX"u8))
            {
                nx = true;
            }
            else if (args.Is(i, "XX"u8))
            {
                xx = true;
            }
            else if (args.Is(i, "GT"u8))
            {
                gt = true;
            }
            else if (args.Is(i, "LT"u8))
            {
                lt = true;
            }
            else
            {
                return RespReply.Error("ERR Unsupported option " + RespAscii.Printable(args[i]));
            }
        }

        if (nx && (xx || gt || lt))
        {
            return RespReply.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
        }

        if (gt && lt)
        {
            return RespReply.Error("ERR GT and LT options at the same time are not compatible");
        }

        if (seconds && (time > long.MaxValue / 1000 || time < long.MinValue / 1000))
        {
            return RespReply.Error(RespErrors.InvalidExpire(name));
        }

        long ms = seconds ? time * 1000 : time;
        var value = view.Get(args[1]);
        if (value is null)
        {
            return RespReply.Zero;
        }

        // GT and LT compare in the unit the command gave: remaining time for EXPIRE, absolute time for EXPIREAT; a key
        // without expiry counts as expiring never.
        long remaining = view.RemainingMs(args[1]);
        long current = remaining < 0 ? long.MaxValue : absolute ? view.ExpiresAtMs(args[1]) : remaining;
        if ((nx && remaining >= 0) || (xx && remaining < 0) || (gt && (remaining < 0 || ms <= current)) || (lt && remaining >= 0 && ms >= current))
        {
            return RespReply.Zero;
        }

        // A relative time of 0 or less deletes here; whether an absolute time is already past is the store's to decide
        // (by its leader's clock, which also removes the key then), not this gateway's clock.
        if (!absolute && ms <= 0)
        {
            view.Set(args[1], null);
        }
        else
        {
            view.Set(args[1], value, absolute ? ExpiryWrite.At(ms) : ExpiryWrite.Ttl(ms));
        }

        return RespReply.One;
    }

    /// <summary>PERSIST: 1 when the key's expiry was removed, 0 when it had none or is missing.</summary>
    public static RespReply Persist(RespRequest args, KeyView view)
    {
        var value = view.Get(args[1]);
        if (value is null || view.RemainingMs(args[1]) < 0)
        {
            return RespReply.Zero;
        }

        view.Set(args[1], value, ExpiryWrite.Clear);
        return RespReply.One;
    }

    public static bool Never(RespRequest args) => false;
}
