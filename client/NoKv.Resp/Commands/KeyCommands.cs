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

    /// <summary>TTL and PTTL: -2 for a missing key, -1 for a key without a time to live (every key, for now).</summary>
    public static RespReply Ttl(RespRequest args, KeyView view) => RespReply.Int(view.Get(args[1]) is null ? -2 : -1);

    /// <summary>EXPIRE and PEXPIRE: arguments checked as Redis does, then the clear "not supported" error.</summary>
    public static RespReply Expire(RespRequest args, KeyView view)
    {
        if (!RespAscii.TryParseInt64(args[2], out _))
        {
            return RespReply.Error(RespErrors.NotInteger);
        }

        for (int i = 3; i < args.Count; i++)
        {
            if (!(args.Is(i, "NX"u8) || args.Is(i, "XX"u8) || args.Is(i, "GT"u8) || args.Is(i, "LT"u8)))
            {
                return RespReply.Error("ERR Unsupported option " + RespAscii.Printable(args[i]));
            }
        }

        return RespReply.Error(RespErrors.ExpiryUnsupported);
    }

    /// <summary>PERSIST: 0, since no key carries a time to live to remove (and a missing key answers 0 too).</summary>
    public static RespReply Persist(RespRequest args, KeyView view) => RespReply.Zero;

    public static bool Never(RespRequest args) => false;
}
