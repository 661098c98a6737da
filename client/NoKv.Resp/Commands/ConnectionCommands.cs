using System.Text;
using NoKv.Resp.Protocol;
using NoKv.Resp.Server;

namespace NoKv.Resp.Commands;

/// <summary>Connection commands: PING, ECHO (as transitions, so MULTI can queue them), HELLO, AUTH, SELECT, CLIENT, QUIT.</summary>
internal static class ConnectionCommands
{
    public static RespReply Ping(RespRequest args, Execution.KeyView view) => args.Count switch
    {
        1 => RespReply.Simple("PONG"),
        2 => RespReply.Bulk(args.ToArray(1)),
        _ => RespReply.Error(RespErrors.WrongArity("ping")),
    };

    public static RespReply Echo(RespRequest args, Execution.KeyView view) => RespReply.Bulk(args.ToArray(1));

    public static ValueTask Quit(RespConnection connection, RespRequest args)
    {
        connection.Writer.WriteOk();
        connection.CloseRequested = true;
        return ValueTask.CompletedTask;
    }

    public static ValueTask Select(RespConnection connection, RespRequest args)
    {
        if (!RespAscii.TryParseInt64(args[1], out long db))
        {
            connection.Writer.WriteError(RespErrors.NotInteger);
        }
        else if (db != 0)
        {
            connection.Writer.WriteError(RespErrors.DbOutOfRange);
        }
        else
        {
            connection.Writer.WriteOk();
        }

        return ValueTask.CompletedTask;
    }

    public static ValueTask Auth(RespConnection connection, RespRequest args)
    {
        if (args.Count > 3)
        {
            connection.Writer.WriteError(RespErrors.Syntax);
        }
        else if (connection.Server.Options.Password is null)
        {
            connection.Writer.WriteError(RespErrors.NoPassword);
        }
        else if (TryAuthenticate(connection, args.Count == 3 ? args[1] : "default"u8, args[args.Count - 1]))
        {
            connection.Writer.WriteOk();
        }
        else
        {
            connection.Writer.WriteError(RespErrors.WrongPass);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>HELLO [protover [AUTH username password] [SETNAME clientname]]: switches RESP2/RESP3 and answers the server map.</summary>
    public static ValueTask Hello(RespConnection connection, RespRequest args)
    {
        var writer = connection.Writer;
        int protocol = writer.Protocol;
        if (args.Count > 1)
        {
            if (!RespAscii.TryParseInt64(args[1], out long version))
            {
                writer.WriteError("ERR Protocol version is not an integer or out of range");
                return ValueTask.CompletedTask;
            }

            if (version is < 2 or > 3)
            {
                writer.WriteError(RespErrors.NoProto);
                return ValueTask.CompletedTask;
            }

            protocol = (int)version;
        }

        string? name = null;
        bool authenticated = connection.Authenticated;
        for (int i = 2; i < args.Count; i++)
        {
            if (args.Is(i, "AUTH"u8) && i + 2 < args.Count)
            {
                if (connection.Server.Options.Password is null)
                {
                    writer.WriteError(RespErrors.NoPassword);
                    return ValueTask.CompletedTask;
                }

                if (!TryAuthenticate(connection, args[i + 1], args[i + 2]))
                {
                    writer.WriteError(RespErrors.WrongPass);
                    return ValueTask.CompletedTask;
                }

                authenticated = true;
                i += 2;
            }
            else if (args.Is(i, "SETNAME"u8) && i + 1 < args.Count)
            {
                if (!ValidName(args[i + 1]))
                {
                    writer.WriteError(InvalidName);
                    return ValueTask.CompletedTask;
                }

                name = Encoding.UTF8.GetString(args[i + 1]);
                i++;
            }
            else
            {
                writer.WriteError($"ERR Syntax error in HELLO option '{RespAscii.Printable(args[i])}'");
                return ValueTask.CompletedTask;
            }
        }

        if (!authenticated)
        {
            writer.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return ValueTask.CompletedTask;
        }

        if (name is not null)
        {
            connection.Name = name;
        }

        writer.Protocol = protocol;
        writer.WriteMapHeader(7);
        writer.WriteBulk("server"u8);
        writer.WriteBulk("redis"u8);
        writer.WriteBulk("version"u8);
        writer.WriteBulk(ServerCommands.CompatibleRedisVersion);
        writer.WriteBulk("proto"u8);
        writer.WriteInteger(protocol);
        writer.WriteBulk("id"u8);
        writer.WriteInteger(connection.Id);
        writer.WriteBulk("mode"u8);
        writer.WriteBulk("standalone"u8);
        writer.WriteBulk("role"u8);
        writer.WriteBulk("master"u8);
        writer.WriteBulk("modules"u8);
        writer.WriteArrayHeader(0);
        return ValueTask.CompletedTask;
    }

    /// <summary>CLIENT SETNAME | GETNAME | ID | SETINFO | INFO.</summary>
    public static ValueTask Client(RespConnection connection, RespRequest args)
    {
        var writer = connection.Writer;
        if (args.Is(1, "SETNAME"u8) && args.Count == 3)
        {
            if (!ValidName(args[2]))
            {
                writer.WriteError(InvalidName);
            }
            else
            {
                connection.Name = args[2].IsEmpty ? null : Encoding.UTF8.GetString(args[2]);
                writer.WriteOk();
            }
        }
        else if (args.Is(1, "GETNAME"u8) && args.Count == 2)
        {
            if (connection.Name is null)
            {
                writer.WriteNull();
            }
            else
            {
                writer.WriteBulk(connection.Name);
            }
        }
        else if (args.Is(1, "ID"u8) && args.Count == 2)
        {
            writer.WriteInteger(connection.Id);
        }
        else if (args.Is(1, "SETINFO"u8) && args.Count == 4)
        {
            // lib-name / lib-ver, sent by client libraries on connect: accepted, not kept.
            if (args.Is(2, "LIB-NAME"u8) || args.Is(2, "LIB-VER"u8))
            {
                writer.WriteOk();
            }
            else
            {
                writer.WriteError($"ERR Unrecognized option '{RespAscii.Printable(args[2])}'");
            }
        }
        else if (args.Is(1, "INFO"u8) && args.Count == 2)
        {
            writer.WriteBulk($"id={connection.Id} addr={connection.RemoteAddress} name={connection.Name} db=0 multi={(connection.Queue is null ? -1 : connection.Queue.Count)} resp={writer.Protocol}\n");
        }
        else if (args.Is(1, "SETNAME"u8) || args.Is(1, "GETNAME"u8) || args.Is(1, "ID"u8) || args.Is(1, "SETINFO"u8) || args.Is(1, "INFO"u8))
        {
            writer.WriteError($"ERR wrong number of arguments for 'client|{RespAscii.Printable(args[1]).ToLowerInvariant()}' command");
        }
        else
        {
            writer.WriteError(RespErrors.UnknownSubcommand(RespAscii.Printable(args[1]), "CLIENT"));
        }

        return ValueTask.CompletedTask;
    }

    private const string InvalidName = "ERR Client names cannot contain spaces, newlines or special characters.";

    private static bool ValidName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            if (b is < (byte)'!' or > (byte)'~')
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryAuthenticate(RespConnection connection, ReadOnlySpan<byte> user, ReadOnlySpan<byte> password)
    {
        var expected = Encoding.UTF8.GetBytes(connection.Server.Options.Password!);
        bool ok = user.SequenceEqual("default"u8)
            & System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(password, expected);
        connection.Authenticated |= ok;
        return ok;
    }
}
