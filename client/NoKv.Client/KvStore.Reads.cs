using System.Runtime.CompilerServices;
using NoKv.Abstractions.Requests;
using NoKv.Client.Routing;

namespace NoKv.Client;

internal sealed partial class KvStore
{
    public async Task<byte[]?> GetAsync(ReadOnlyMemory<byte> key, KvReadOptions? options = null, CancellationToken cancellationToken = default) =>
        (await ReadAsync(key, options, cancellationToken).ConfigureAwait(false)).Value;

    public async Task<KvValue?> GetWithExpiryAsync(ReadOnlyMemory<byte> key, KvReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        var response = await ReadAsync(key, options, cancellationToken).ConfigureAwait(false);
        if (response.Value is null)
        {
            return null;
        }

        // The remaining time comes from the serving replica's own clock, so it holds whatever the client's clock says.
        return response.ExpiresAtMs == 0
            ? new KvValue(response.Value, null, null)
            : new KvValue(response.Value, DateTimeOffset.FromUnixTimeMilliseconds(response.ExpiresAtMs), TimeSpan.FromMilliseconds(Math.Max(0, response.ExpiresAtMs - response.ServedAtMs)));
    }

    private async Task<ReadResponse> ReadAsync(ReadOnlyMemory<byte> key, KvReadOptions? options, CancellationToken cancellationToken)
    {
        ThrowIfInvalid(_limits.CheckKey(key.Span));
        options ??= KvReadOptions.Linearizable;
        var read = new PendingRead(key.ToArray(), options);
        using var retry = NewRetry("Get", cancellationToken);
        var response = await ExecuteAsync(retry, key, leaderOnly: options.Consistency == ReadConsistency.Linearizable, read,
            static (endpoint, shard, r, ct) => endpoint.GetAsync(new ReadRequest
            {
                Shard = shard.Id,
                Epoch = shard.Epoch,
                Key = r.Key,
                Consistency = r.Options.Consistency,
                MaxStaleness = r.Options.MaxStaleness,
            }, ct)).ConfigureAwait(false);
        return response;
    }

    public async IAsyncEnumerable<KvEntry> ScanAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, KvReadOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(_limits.CheckRange(start.Span, end.Span, limit));
        options ??= KvReadOptions.Linearizable;
        byte[] cursor = start.ToArray();
        byte[] endKey = end.ToArray();
        int remaining = limit;
        while (remaining > 0)
        {
            var page = new PendingScan(cursor, endKey, Math.Min(remaining, _options.ScanPageSize), options);
            ScanResponse response;
            using (var retry = NewRetry("Scan", cancellationToken))
            {
                response = await ExecuteAsync(retry, cursor, leaderOnly: options.Consistency == ReadConsistency.Linearizable, page,
                    static (endpoint, shard, p, ct) => endpoint.ScanAsync(new ScanRequest
                    {
                        Shard = shard.Id,
                        Epoch = shard.Epoch,
                        Start = p.Start,
                        End = p.End,
                        Limit = p.Limit,
                        Consistency = p.Options.Consistency,
                        MaxStaleness = p.Options.MaxStaleness,
                    }, ct)).ConfigureAwait(false);
            }

            byte[] shardEnd = response.ShardEnd;
            foreach (var entry in response.Entries)
            {
                yield return entry;
            }

            remaining -= response.Entries.Length;
            if (response.HasMore)
            {
                // Continue in the same shard right after the last key returned.
                var last = response.Entries[^1].Key;
                cursor = new byte[last.Length + 1];
                last.CopyTo(cursor, 0);
                continue;
            }

            if (shardEnd.Length == 0 || (endKey.Length != 0 && shardEnd.AsSpan().SequenceCompareTo(endKey) >= 0))
            {
                yield break;
            }

            cursor = shardEnd;
        }
    }

    private sealed record PendingRead(byte[] Key, KvReadOptions Options);

    private sealed record PendingScan(byte[] Start, byte[] End, int Limit, KvReadOptions Options);
}
