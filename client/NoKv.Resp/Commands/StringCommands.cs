using NoKv.Resp.Execution;
using NoKv.Resp.Protocol;

namespace NoKv.Resp.Commands;

/// <summary>The string commands, as key transitions (see <see cref="KeyView"/>).</summary>
internal static class StringCommands
{
    public static RespReply Get(RespRequest args, KeyView view) => RespReply.Bulk(view.Get(args[1]));

    public static RespReply GetDel(RespRequest args, KeyView view)
    {
        var old = view.Get(args[1]);
        if (old is not null)
        {
            view.Set(args[1], null);
        }

        return RespReply.Bulk(old);
    }

    public static RespReply Strlen(RespRequest args, KeyView view) => RespReply.Int(view.Get(args[1])?.Length ?? 0);

    public static RespReply MGet(RespRequest args, KeyView view)
    {
        var items = new RespReply[args.Count - 1];
        for (int i = 1; i < args.Count; i++)
        {
            items[i - 1] = RespReply.Bulk(view.Get(args[i]));
        }

        return RespReply.Array(items);
    }

    public static RespReply MSet(RespRequest args, KeyView view)
    {
        if (args.Count % 2 == 0)
        {
            return RespReply.Error(RespErrors.WrongArity("mset"));
        }

        for (int i = 1; i < args.Count; i += 2)
        {
            view.Set(args[i], args.ToArray(i + 1));
        }

        return RespReply.Ok;
    }

    public static bool MSetArityOk(RespRequest args) => args.Count % 2 == 1;

    public static RespReply Set(RespRequest args, KeyView view)
    {
        var options = SetOptions.Parse(args);
        if (options.Error is { } error)
        {
            return RespReply.Error(error);
        }

        byte[]? old = options.ReadsKey ? view.Get(args[1]) : null;
        bool apply = !(options.Nx && old is not null) && !(options.Xx && old is null);
        if (apply)
        {
            view.Set(args[1], args.ToArray(2), options.Expiry);
        }

        if (options.Get)
        {
            return RespReply.Bulk(old);
        }

        return apply ? RespReply.Ok : RespReply.Nil;
    }

    /// <summary>SETEX key seconds value and PSETEX key milliseconds value: a SET with a time to live.</summary>
    public static RespReply SetEx(RespRequest args, KeyView view)
    {
        if (!RespAscii.TryParseInt64(args[2], out long time))
        {
            return RespReply.Error(RespErrors.NotInteger);
        }

        bool seconds = args.Is(0, "SETEX"u8);
        if (time <= 0 || (seconds && time > long.MaxValue / 1000))
        {
            return RespReply.Error(RespErrors.InvalidExpire(seconds ? "setex" : "psetex"));
        }

        view.Set(args[1], args.ToArray(3), ExpiryWrite.Ttl(seconds ? time * 1000 : time));
        return RespReply.Ok;
    }

    /// <summary>GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]: the value, and a new expiry if one is given.</summary>
    public static RespReply GetEx(RespRequest args, KeyView view)
    {
        ExpiryWrite? change = null;
        for (int i = 2; i < args.Count; i++)
        {
            if (args.Is(i, "PERSIST"u8) && change is null)
            {
                change = ExpiryWrite.Clear;
            }
            else if ((args.Is(i, "EX"u8) || args.Is(i, "PX"u8) || args.Is(i, "EXAT"u8) || args.Is(i, "PXAT"u8)) && change is null && i + 1 < args.Count)
            {
                if (!RespAscii.TryParseInt64(args[i + 1], out long time))
                {
                    return RespReply.Error(RespErrors.NotInteger);
                }

                change = SetOptions.ParseExpiry(args, i, time);
                if (change is null)
                {
                    return RespReply.Error(RespErrors.InvalidExpire("getex"));
                }

                i++;
            }
            else
            {
                return RespReply.Error(RespErrors.Syntax);
            }
        }

        var value = view.Get(args[1]);
        if (value is not null && change is { } write && !(write.Mode == ExpiryWriteMode.Clear && view.RemainingMs(args[1]) == -1))
        {
            view.Set(args[1], value, write);
        }

        return RespReply.Bulk(value);
    }

    /// <summary>SETNX (what client libraries send for "set if not exists" without an expiry): 1 if set, 0 if the key existed.</summary>
    public static RespReply SetNx(RespRequest args, KeyView view)
    {
        if (view.Get(args[1]) is not null)
        {
            return RespReply.Zero;
        }

        view.Set(args[1], args.ToArray(2));
        return RespReply.One;
    }

    /// <summary>GETSET (deprecated in Redis for SET ... GET, still sent by older clients).</summary>
    public static RespReply GetSet(RespRequest args, KeyView view)
    {
        var old = view.Get(args[1]);
        view.Set(args[1], args.ToArray(2));
        return RespReply.Bulk(old);
    }

    public static bool SetReadsKey(RespRequest args) => SetOptions.Parse(args).ReadsKey;

    public static RespReply Incr(RespRequest args, KeyView view) => IncrementBy(args, view, 1);

    public static RespReply Decr(RespRequest args, KeyView view) => IncrementBy(args, view, -1);

    public static RespReply IncrBy(RespRequest args, KeyView view) =>
        RespAscii.TryParseInt64(args[2], out long by) ? IncrementBy(args, view, by) : RespReply.Error(RespErrors.NotInteger);

    public static RespReply DecrBy(RespRequest args, KeyView view)
    {
        if (!RespAscii.TryParseInt64(args[2], out long by))
        {
            return RespReply.Error(RespErrors.NotInteger);
        }

        return by == long.MinValue ? RespReply.Error(RespErrors.DecrementOverflow) : IncrementBy(args, view, -by);
    }

    public static RespReply Append(RespRequest args, KeyView view)
    {
        var old = view.Get(args[1]);
        var suffix = args[2];
        long length = (long)(old?.Length ?? 0) + suffix.Length;
        if (length > int.MaxValue)
        {
            return RespReply.Error(RespErrors.StringTooLong);
        }

        var next = new byte[length];
        old?.CopyTo(next, 0);
        suffix.CopyTo(next.AsSpan(old?.Length ?? 0));
        view.Set(args[1], next, ExpiryWrite.Keep);
        return RespReply.Int(length);
    }

    private static RespReply IncrementBy(RespRequest args, KeyView view, long by)
    {
        var old = view.Get(args[1]);
        long current = 0;
        if (old is not null && !RespAscii.TryParseInt64(old, out current))
        {
            return RespReply.Error(RespErrors.NotInteger);
        }

        long next;
        try
        {
            next = checked(current + by);
        }
        catch (OverflowException)
        {
            return RespReply.Error(RespErrors.Overflow);
        }

        view.Set(args[1], System.Text.Encoding.ASCII.GetBytes(next.ToString(System.Globalization.CultureInfo.InvariantCulture)), ExpiryWrite.Keep);
        return RespReply.Int(next);
    }
}
