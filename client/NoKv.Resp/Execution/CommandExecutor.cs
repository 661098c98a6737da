using NoKv.Abstractions.Errors;
using NoKv.Client;
using NoKv.Resp.Commands;
using NoKv.Resp.Protocol;

namespace NoKv.Resp.Execution;

/// <summary>
/// Runs key transitions against the store so each is atomic and every acknowledged write is durable on a
/// majority (the SDK's Put, Delete and CompareAndSwap complete only then).
/// <list type="bullet">
/// <item>A command on one key reads the key (linearizable), applies the transition, and writes the result with a
/// compare-and-swap against what it read; a lost race re-reads and re-applies, so INCR, APPEND, SET NX/XX/GET,
/// GETDEL and DEL are atomic read-modify-writes. A blind write (plain SET, MSET) is one Put; a read-only
/// command is one read.</item>
/// <item>A command on several keys (MGET, MSET, DEL, EXISTS) runs once per key, concurrently: each key's part is
/// atomic, the whole is not a single atomic step (docs/resp.md).</item>
/// <item>MULTI/EXEC on at most one key without WATCH runs like a single command (the queue is the transition);
/// over several keys, or with WATCH, it is one serializable cross-shard store transaction (docs/resp.md).</item>
/// </list>
/// Thread-safe (stateless apart from the store).
/// </summary>
internal sealed class CommandExecutor
{
    /// <summary>Compare-and-swap attempts before a command gives up under contention (each attempt is one read and one CAS).</summary>
    internal const int MaxAttempts = 200;

    /// <summary>Attempts of a cross-shard MULTI/EXEC before it gives up under contention (each is a whole transaction).</summary>
    internal const int MaxTransactionAttempts = 20;

    internal const string KeepRefused =
        "ERR NoKV runs this MULTI/EXEC (several keys, or WATCH) as a cross-shard transaction, whose writes cannot keep a key's time to live yet, and INCR, INCRBY, DECR, DECRBY, APPEND or SET KEEPTTL would have to keep one here. Nothing was executed.";

    private readonly IKvStore _store;

    public CommandExecutor(IKvStore store) => _store = store;

    /// <summary>Runs a transition command outside MULTI.</summary>
    public async ValueTask<RespReply> RunAsync(CommandSpec spec, RespRequest args, CancellationToken cancellationToken)
    {
        int keys = spec.KeyCount(args);
        try
        {
            if (keys == 0)
            {
                return spec.Transition!(args, new KeyView());
            }

            if (keys == 1 || spec.MultiKey == MultiKeyReply.None)
            {
                return await RunOnKeyAsync(spec, args, args.Memory(spec.FirstKey), cancellationToken).ConfigureAwait(false);
            }

            return await RunPerKeyAsync(spec, args, keys, cancellationToken).ConfigureAwait(false);
        }
        catch (NoKvException e)
        {
            return RespReply.Error(ErrorText(e));
        }
    }

    /// <summary>
    /// Runs a MULTI/EXEC queue (<paramref name="queue"/>, its commands' own arguments) as one atomic step, with
    /// <paramref name="watches"/> as its precondition. Returns the reply array, or a null array when a watched key
    /// changed since its WATCH. A queue on at most one key without WATCH runs like a single command (read, apply,
    /// compare-and-swap; expiry commands included); anything else runs as one serializable cross-shard transaction.
    /// </summary>
    public async ValueTask<RespReply> ExecAsync(IReadOnlyList<QueuedCommand> queue, IReadOnlyList<WatchedKeys> watches, CancellationToken cancellationToken)
    {
        var keys = new List<byte[]>();
        var reads = new List<bool>();
        foreach (var w in watches)
        {
            foreach (var key in w.Keys)
            {
                AddKey(keys, reads, key, read: true);
            }
        }

        foreach (var q in queue)
        {
            int count = q.Spec.KeyCount(q.Args);
            bool read = q.Spec.NeedsRead(q.Args);
            for (int k = 0; k < count; k++)
            {
                AddKey(keys, reads, q.Args.ToArray(q.Spec.KeyIndex(k)), read);
            }
        }

        try
        {
            return watches.Count == 0 && keys.Count <= 1
                ? await ExecOnKeyAsync(queue, keys, cancellationToken).ConfigureAwait(false)
                : await ExecTransactionAsync(queue, watches, keys, reads, cancellationToken).ConfigureAwait(false);
        }
        catch (NoKvException e)
        {
            return RespReply.Error(ErrorText(e));
        }
    }

    /// <summary>
    /// WATCH: reads <paramref name="keys"/> in a transaction of their own, at a fresh oracle timestamp. The snapshot
    /// read raises each key's shard read floor to that timestamp, so every later write of a key is stamped above it
    /// and the validation at EXEC sees it.
    /// </summary>
    public async Task<WatchedKeys> WatchAsync(IReadOnlyList<byte[]> keys, CancellationToken cancellationToken)
    {
        var tx = await _store.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var key in keys)
            {
                await tx.GetAsync(key, cancellationToken).ConfigureAwait(false);
            }

            return new WatchedKeys(tx, keys);
        }
        catch
        {
            await tx.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async ValueTask<RespReply> ExecOnKeyAsync(IReadOnlyList<QueuedCommand> queue, List<byte[]> keys, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            var view = new KeyView();
            byte[]? original = null;
            if (keys.Count == 1)
            {
                var read = await _store.GetWithExpiryAsync(keys[0], cancellationToken: cancellationToken).ConfigureAwait(false);
                original = read?.Value;
                view.Load(keys[0], read);
            }

            var replies = Apply(queue, view);
            if (!view.Written || await SwapAsync(keys[0], original, view[0], cancellationToken).ConfigureAwait(false))
            {
                return RespReply.Array(replies);
            }

            // Another client changed the key between the read and the swap: the transaction runs again on the new
            // value (nobody has observed its outcome yet).
            if (attempt >= MaxAttempts)
            {
                return RespReply.Error(Contended(attempt));
            }

            await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One attempt per store transaction T: every WATCH's reads are validated up to T's start (so no watched key
    /// changed from its WATCH to T's snapshot), T reads the keys the queue needs and every watched key (so its own
    /// commit validates them from its snapshot to its commit), the queue runs on those values, and T commits the
    /// result. A conflict of T alone (some key changed between T's reads and its commit) runs the queue again on a
    /// new snapshot, as Redis would have run it after that change; a failed WATCH validation answers a null array.
    /// </summary>
    private async ValueTask<RespReply> ExecTransactionAsync(
        IReadOnlyList<QueuedCommand> queue, IReadOnlyList<WatchedKeys> watches, List<byte[]> keys, List<bool> reads, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            var tx = await _store.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var w in watches)
                {
                    try
                    {
                        await w.Reads.ValidateReadsAsync(tx.StartTimestamp, cancellationToken).ConfigureAwait(false);
                    }
                    catch (NoKvException e) when (e is TransactionConflictException or TransactionAbortedException || e.Code == NoKvErrorCode.SnapshotTooOld)
                    {
                        // Changed since WATCH (or watched so long ago that the versions needed to tell are collected).
                        return RespReply.NilArray;
                    }
                }

                var view = new KeyView { ExpiryKnown = false };
                for (int i = 0; i < keys.Count; i++)
                {
                    if (reads[i])
                    {
                        view.Load(keys[i], await tx.GetAsync(keys[i], cancellationToken).ConfigureAwait(false));
                    }
                    else
                    {
                        view.LoadBlind(keys[i]);
                    }
                }

                RespReply[] replies;
                try
                {
                    replies = Apply(queue, view);
                }
                catch (ExpiryUnavailableException e)
                {
                    return RespReply.Error(e.Message);
                }

                for (int i = 0; i < view.Count; i++)
                {
                    var entry = view[i];
                    if (!entry.Changed)
                    {
                        continue;
                    }

                    if (entry.Expiry.Mode == ExpiryWriteMode.Keep && entry.Current is not null && (entry.Original is not null || !entry.Loaded)
                        && await HasExpiryAsync(entry.Key, cancellationToken).ConfigureAwait(false))
                    {
                        return RespReply.Error(KeepRefused);
                    }

                    if (entry.Current is null)
                    {
                        tx.Delete(entry.Key);
                    }
                    else
                    {
                        tx.Put(entry.Key, entry.Current);
                    }
                }

                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return RespReply.Array(replies);
            }
            catch (NoKvException e) when (e is TransactionConflictException or TransactionAbortedException && attempt < MaxTransactionAttempts)
            {
                await BackoffAsync(attempt + 2, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Rolls back an uncommitted attempt (its locks, if any); a committed one is left alone.
                await tx.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Whether the key's newest value expires (a plain linearizable read, after the transaction's snapshot read). If
    /// the snapshot's version has an expiry, either it is still the newest (seen here) or a newer version exists,
    /// which fails the transaction's commit; so a transaction that passes this check overwrites a value without one.
    /// </summary>
    private async Task<bool> HasExpiryAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken) =>
        (await _store.GetWithExpiryAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false))?.ExpiresAt is not null;

    private static RespReply[] Apply(IReadOnlyList<QueuedCommand> queue, KeyView view)
    {
        var replies = new RespReply[queue.Count];
        for (int i = 0; i < queue.Count; i++)
        {
            replies[i] = queue[i].Spec.Transition!(queue[i].Args, view);
        }

        return replies;
    }

    /// <summary>The reply text for a store error: what failed, in terms a Redis user can act on.</summary>
    public static string ErrorText(NoKvException e) => e.Code switch
    {
        NoKvErrorCode.EmptyKey => "ERR empty keys are not supported by NoKV",
        NoKvErrorCode.KeyTooLarge or NoKvErrorCode.ValueTooLarge => "ERR " + e.Message,
        NoKvErrorCode.Timeout => "TRYAGAIN " + e.Message,
        NoKvErrorCode.WriteConflict or NoKvErrorCode.TxnAborted => "TRYAGAIN " + e.Message,
        _ => $"ERR NoKV {e.Code}: {e.Message}",
    };

    private async ValueTask<RespReply> RunOnKeyAsync(CommandSpec spec, RespRequest args, ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        bool reads = spec.NeedsRead(args);
        for (int attempt = 1; ; attempt++)
        {
            var view = new KeyView();
            byte[]? original = null;
            if (reads)
            {
                var read = await _store.GetWithExpiryAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
                original = read?.Value;
                view.Load(key, read);
            }
            else
            {
                view.LoadBlind(key);
            }

            var reply = spec.Transition!(args, view);
            if (!view.Written)
            {
                return reply;
            }

            var next = view[0].Current;
            if (!reads)
            {
                await (next is null ? _store.DeleteAsync(key, cancellationToken)
                    : view[0].Expiry.ToOptions() is { } options ? _store.PutAsync(key, next, options, cancellationToken)
                    : _store.PutAsync(key, next, cancellationToken)).ConfigureAwait(false);
                return reply;
            }

            if (await SwapAsync(key, original, view[0], cancellationToken).ConfigureAwait(false))
            {
                return reply;
            }

            if (attempt >= MaxAttempts)
            {
                return RespReply.Error(Contended(attempt));
            }

            await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<RespReply> RunPerKeyAsync(CommandSpec spec, RespRequest args, int keys, CancellationToken cancellationToken)
    {
        // One sub-command per key (per key/value pair for MSET), each carrying its own copy of the arguments so the
        // parts can run at once.
        int width = spec.Step;
        var parts = new Task<RespReply>[keys];
        var superseded = spec.MultiKey == MultiKeyReply.Ok ? Superseded(args, spec, keys) : null;
        for (int k = 0; k < keys; k++)
        {
            // MSET k a k b leaves b, as Redis does: a blind write to a key named again later is dropped, not raced.
            if (superseded is not null && superseded[k])
            {
                parts[k] = Task.FromResult(RespReply.Ok);
                continue;
            }

            var sub = new List<byte[]>(width + 1) { args.ToArray(0) };
            for (int j = 0; j < width; j++)
            {
                sub.Add(args.ToArray(spec.KeyIndex(k) + j));
            }

            var part = new RespRequest(sub);
            parts[k] = RunOnKeyAsync(spec, part, part.Memory(1), cancellationToken).AsTask();
        }

        var replies = await Task.WhenAll(parts).ConfigureAwait(false);
        switch (spec.MultiKey)
        {
            case MultiKeyReply.Array:
                var items = new RespReply[replies.Length];
                for (int i = 0; i < replies.Length; i++)
                {
                    items[i] = replies[i].IsError ? RespReply.Nil : replies[i].Items![0];
                }

                foreach (var r in replies)
                {
                    if (r.IsError)
                    {
                        return r;
                    }
                }

                return RespReply.Array(items);
            case MultiKeyReply.Sum:
                long sum = 0;
                foreach (var r in replies)
                {
                    if (r.IsError)
                    {
                        return r;
                    }

                    sum += r.Integer;
                }

                return RespReply.Int(sum);
            default:
                foreach (var r in replies)
                {
                    if (r.IsError)
                    {
                        return r;
                    }
                }

                return RespReply.Ok;
        }
    }

    /// <summary>
    /// Writes what the command left in <paramref name="entry"/> if the key still holds <paramref name="original"/>: the
    /// new value (or a delete) with the expiry the command gave it. A change of the expiry alone is a swap of the value
    /// for itself with the new expiry, so it too is lost, and recomputed, if the value changed meanwhile.
    /// </summary>
    private Task<bool> SwapAsync(ReadOnlyMemory<byte> key, byte[]? original, KeyView.Entry entry, CancellationToken cancellationToken) =>
        _store.CompareAndSwapAsync(key, KvExpected.Of(original), entry.Current, entry.Current is null ? null : entry.Expiry.ToOptions(), cancellationToken);

    private static Task BackoffAsync(int attempt, CancellationToken cancellationToken)
    {
        // The first retries go at once (the usual loser of a race wins the next round); sustained contention
        // spreads out with jitter so competing gateways stop colliding.
        if (attempt < 3)
        {
            return Task.CompletedTask;
        }

        int ceiling = Math.Min(50, 1 << Math.Min(attempt - 2, 6));
        return Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, ceiling + 1)), cancellationToken);
    }

    private static string Contended(int attempts) =>
        $"TRYAGAIN the key changed under this command {attempts} times in a row (heavy contention); nothing was written by the last attempt";

    /// <summary>For each key position, whether the same key appears again later in the command.</summary>
    private static bool[] Superseded(RespRequest args, CommandSpec spec, int keys)
    {
        var result = new bool[keys];
        var seen = new HashSet<byte[]>(ByteArrayComparer.Instance);
        for (int k = keys - 1; k >= 0; k--)
        {
            result[k] = !seen.Add(args.ToArray(spec.KeyIndex(k)));
        }

        return result;
    }

    private static void AddKey(List<byte[]> keys, List<bool> reads, byte[] key, bool read)
    {
        for (int i = 0; i < keys.Count; i++)
        {
            if (keys[i].AsSpan().SequenceEqual(key))
            {
                reads[i] |= read;
                return;
            }
        }

        keys.Add(key);
        reads.Add(read);
    }
}
