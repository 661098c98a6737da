using NoKv.Resp.Execution;
using NoKv.Resp.Protocol;
using NoKv.Resp.Server;

namespace NoKv.Resp.Commands;

/// <summary>MULTI, EXEC, DISCARD, WATCH, UNWATCH (see <see cref="CommandExecutor.ExecAsync"/> for how EXEC commits).</summary>
internal static class TransactionCommands
{
    public static ValueTask Multi(RespConnection connection, RespRequest args)
    {
        if (connection.Queue is not null)
        {
            connection.Writer.WriteError(RespErrors.MultiNested);
        }
        else
        {
            connection.Queue = new List<QueuedCommand>();
            connection.QueueFailed = false;
            connection.Writer.WriteOk();
        }

        return ValueTask.CompletedTask;
    }

    public static ValueTask Discard(RespConnection connection, RespRequest args)
    {
        if (connection.Queue is null)
        {
            connection.Writer.WriteError(RespErrors.DiscardWithoutMulti);
        }
        else
        {
            connection.EndTransaction();
            connection.Writer.WriteOk();
        }

        return ValueTask.CompletedTask;
    }

    public static async ValueTask Exec(RespConnection connection, RespRequest args)
    {
        var queue = connection.Queue;
        if (queue is null)
        {
            connection.Writer.WriteError(RespErrors.ExecWithoutMulti);
            return;
        }

        bool failed = connection.QueueFailed;
        var watched = connection.Watched.ToArray();
        connection.EndTransaction();
        if (failed)
        {
            connection.Writer.WriteError(RespErrors.ExecAbort);
            return;
        }

        var reply = await connection.Server.Executor.ExecAsync(queue, watched, connection.Aborted).ConfigureAwait(false);
        connection.Writer.Write(reply);
    }

    public static async ValueTask Watch(RespConnection connection, RespRequest args)
    {
        if (connection.Queue is not null)
        {
            connection.Writer.WriteError(RespErrors.WatchInMulti);
            return;
        }

        var keys = new byte[args.Count - 1][];
        for (int i = 1; i < args.Count; i++)
        {
            keys[i - 1] = args.ToArray(i);
        }

        try
        {
            connection.Watched.Add(await connection.Server.Executor.WatchAsync(keys, connection.Aborted).ConfigureAwait(false));
        }
        catch (NoKv.Abstractions.Errors.NoKvException e)
        {
            connection.Writer.WriteError(CommandExecutor.ErrorText(e));
            return;
        }

        connection.Writer.WriteOk();
    }

    public static ValueTask Unwatch(RespConnection connection, RespRequest args)
    {
        connection.Watched.Clear();
        connection.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }
}
