using System.Runtime.CompilerServices;
using System.Text;

namespace NoKv.Client;

/// <summary>UTF-8 string conveniences over <see cref="IKvStore"/>; keys and values are stored as their UTF-8 bytes.</summary>
public static class KvStoreStringExtensions
{
    public static async Task<string?> GetStringAsync(this IKvStore store, string key, KvReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        var value = await store.GetAsync(Utf8(key), options, cancellationToken).ConfigureAwait(false);
        return value is null ? null : Encoding.UTF8.GetString(value);
    }

    public static Task PutAsync(this IKvStore store, string key, string value, CancellationToken cancellationToken = default) =>
        store.PutAsync(Utf8(key), Utf8(value), cancellationToken);

    /// <summary>A put fenced by a lock token (see <see cref="IKvStore.PutAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, NoKv.Abstractions.Locks.LockFence, CancellationToken)"/>).</summary>
    public static Task PutAsync(this IKvStore store, string key, string value, NoKv.Abstractions.Locks.LockFence fence, CancellationToken cancellationToken = default) =>
        store.PutAsync(Utf8(key), Utf8(value), fence, cancellationToken);

    public static Task DeleteAsync(this IKvStore store, string key, CancellationToken cancellationToken = default) =>
        store.DeleteAsync(Utf8(key), cancellationToken);

    public static Task<bool> CompareAndSwapAsync(this IKvStore store, string key, string? expected, string? newValue, CancellationToken cancellationToken = default) =>
        store.CompareAndSwapAsync(Utf8(key), OptionalUtf8(expected), OptionalUtf8(newValue), cancellationToken);

    /// <summary>Scans [start, end) (empty end = unbounded) and yields UTF-8 decoded pairs.</summary>
    public static async IAsyncEnumerable<KeyValuePair<string, string>> ScanStringsAsync(this IKvStore store, string start, string end, int limit, KvReadOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in store.ScanAsync(Utf8(start), Utf8(end), limit, options, cancellationToken).ConfigureAwait(false))
        {
            yield return new KeyValuePair<string, string>(Encoding.UTF8.GetString(entry.Key), Encoding.UTF8.GetString(entry.Value));
        }
    }

    // Explicit: a null byte[] converts to an empty (non-null) ReadOnlyMemory, which would mean "empty value", not "absent".
    // (A conditional "s is null ? null : memory" would be typed ReadOnlyMemory<byte> through the byte[] conversion.)
    private static ReadOnlyMemory<byte>? OptionalUtf8(string? s)
    {
        if (s is null)
        {
            return default(ReadOnlyMemory<byte>?);
        }

        return new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(s));
    }

    private static byte[] Utf8(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return Encoding.UTF8.GetBytes(s);
    }
}
