using NoKv.Resp.Commands;
using NoKv.Resp.Execution;
using NoKv.Resp.Protocol;

namespace NoKv.Resp.Server;

internal sealed partial class RespConnection
{
    /// <summary>
    /// Runs one request, in redis-server's order of checks: unknown command, arity, authentication, then queueing
    /// inside MULTI, then the command. Any unexpected failure is answered as an error and logged; the connection
    /// stays up.
    /// </summary>
    public async ValueTask DispatchAsync(RespRequest request)
    {
        Server.CountCommand();
        if (!CommandTable.TryGet(request[0], out var spec))
        {
            Writer.WriteError(UnknownCommand(request));
            QueueFailed |= Queue is not null;
            return;
        }

        if (!spec.ArityMatches(request.Count))
        {
            Writer.WriteError(RespErrors.WrongArity(spec.Name));
            QueueFailed |= Queue is not null;
            return;
        }

        if (!Authenticated && (spec.Flags & CommandFlags.NoAuth) == 0)
        {
            Writer.WriteError(RespErrors.NoAuth);
            return;
        }

        if (Queue is not null && (spec.Flags & CommandFlags.Transaction) == 0)
        {
            Enqueue(spec, request);
            return;
        }

        try
        {
            if (spec.Handler is not null)
            {
                await spec.Handler(this, request).ConfigureAwait(false);
            }
            else
            {
                var reply = await Server.Executor.RunAsync(spec, request, Aborted).ConfigureAwait(false);
                Writer.Write(reply);
            }
        }
        catch (OperationCanceledException) when (Aborted.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            RespServer.Log.CommandFailed(_logger, e, Id, spec.Name);
            Writer.WriteError($"ERR internal error in NoKV's RESP gateway running '{spec.Name}': {e.GetType().Name}");
        }
    }

    private void Enqueue(CommandSpec spec, RespRequest request)
    {
        if (spec.Transition is null)
        {
            Writer.WriteError($"ERR '{spec.Name}' cannot be queued inside MULTI on NoKV (only key commands, PING and ECHO can)");
            QueueFailed = true;
            return;
        }

        if (Queue!.Count >= Server.Options.MaxQueuedCommands)
        {
            Writer.WriteError($"ERR too many commands queued in MULTI (limit {Server.Options.MaxQueuedCommands})");
            QueueFailed = true;
            return;
        }

        Queue.Add(new QueuedCommand(spec, new RespRequest(request.ToOwned())));
        Writer.WriteQueued();
    }

    /// <summary>redis-server's wording, with the first arguments quoted (each cut to 128 bytes).</summary>
    private static string UnknownCommand(RespRequest request)
    {
        var text = new System.Text.StringBuilder("ERR unknown command '");
        text.Append(RespAscii.Printable(request[0])).Append("', with args beginning with: ");
        for (int i = 1; i < request.Count && text.Length < 512; i++)
        {
            text.Append('\'').Append(RespAscii.Printable(request[i])).Append("' ");
        }

        return text.ToString();
    }

    /// <summary>Leaves MULTI and forgets WATCHed keys (EXEC, DISCARD, RESET).</summary>
    public void EndTransaction()
    {
        Queue = null;
        QueueFailed = false;
        Watched.Clear();
    }
}
