using NoKv.Client;

namespace NoKv.Resp.Execution;

/// <summary>
/// The keys one command (or one MULTI/EXEC transaction) works on: for each, the value read from the store before
/// the command ran and the value the command leaves. Commands are pure functions over a view, so the same code
/// runs a lone command, a queued transaction, and a retry after a lost compare-and-swap; the executor decides how
/// the view's writes reach the store. A key is read only if the command needs its value (a plain SET does not);
/// asking a view for a key it was not given is a bug in the command table and throws.
/// Not thread-safe; tiny (most commands touch one key), so lookups are linear.
/// </summary>
internal sealed class KeyView
{
    private readonly List<Entry> _entries = new(1);

    public int Count => _entries.Count;

    /// <summary>
    /// False when the values were read without their expiry (by a transaction): reading or setting a time to live
    /// then throws <see cref="ExpiryUnavailableException"/> instead of answering wrongly.
    /// </summary>
    public bool ExpiryKnown { get; init; } = true;

    /// <summary>Whether any command changed any key.</summary>
    public bool Written { get; private set; }

    /// <summary>Adds a key read from the store (<paramref name="value"/> null = absent).</summary>
    public void Load(ReadOnlyMemory<byte> key, byte[]? value) => _entries.Add(new Entry(key, value, Loaded: true));

    /// <summary>Adds a key read from the store with its expiry (null = absent or expired).</summary>
    public void Load(ReadOnlyMemory<byte> key, KvValue? value) =>
        _entries.Add(new Entry(key, value?.Value, Loaded: true) { Read = value });

    /// <summary>Adds a key the command only writes (its current value was not read).</summary>
    public void LoadBlind(ReadOnlyMemory<byte> key) => _entries.Add(new Entry(key, null, Loaded: false));

    public byte[]? Get(ReadOnlySpan<byte> key)
    {
        var entry = Find(key);
        if (!entry.Loaded)
        {
            throw new InvalidOperationException("The command read a key whose value was not loaded (the command's ReadsKeys is wrong).");
        }

        return entry.Current;
    }

    /// <summary>Sets the key's value, which then never expires (Redis SET); null deletes it.</summary>
    public void Set(ReadOnlySpan<byte> key, byte[]? value) => Set(key, value, ExpiryWrite.Clear);

    /// <summary>Sets the key's value with <paramref name="expiry"/>; null deletes it.</summary>
    public void Set(ReadOnlySpan<byte> key, byte[]? value, ExpiryWrite expiry)
    {
        if (!ExpiryKnown && expiry.Mode is ExpiryWriteMode.Ttl or ExpiryWriteMode.At)
        {
            throw new ExpiryUnavailableException(ExpiryRefused);
        }

        var entry = Find(key);
        entry.Current = value;

        // Keeping the expiry after an earlier write in the same transaction keeps what that write gave the key.
        if (!(expiry.Mode == ExpiryWriteMode.Keep && entry.Changed))
        {
            entry.Expiry = expiry;
        }

        entry.Changed = true;
        Written = true;
    }

    /// <summary>
    /// The key's live value as read with its expiry: -2 when absent, -1 when it never expires, else the milliseconds
    /// it had left by the serving leader's clock. REQUIRES: the key was loaded with its expiry.
    /// </summary>
    public long RemainingMs(ReadOnlySpan<byte> key)
    {
        RequireExpiry();
        var entry = Find(key);
        if (entry.Current is null)
        {
            return -2;
        }

        if (entry.Changed)
        {
            // Changed earlier in the same transaction: what that write gives it.
            return entry.Expiry.Mode switch
            {
                ExpiryWriteMode.Ttl => entry.Expiry.Milliseconds,
                ExpiryWriteMode.At => Math.Max(0, entry.Expiry.Milliseconds - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
                ExpiryWriteMode.Keep => OriginalRemaining(entry),
                _ => -1,
            };
        }

        return OriginalRemaining(entry);
    }

    /// <summary>The absolute expiry (Unix ms) of the key's value as read; 0 when it never expires or is absent.</summary>
    public long ExpiresAtMs(ReadOnlySpan<byte> key)
    {
        RequireExpiry();
        var entry = Find(key);
        return entry.Current is null ? 0
            : entry.Changed && entry.Expiry.Mode == ExpiryWriteMode.At ? entry.Expiry.Milliseconds
            : entry.Changed && entry.Expiry.Mode == ExpiryWriteMode.Ttl ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + entry.Expiry.Milliseconds
            : entry.Changed && entry.Expiry.Mode == ExpiryWriteMode.Clear ? 0
            : entry.Read?.ExpiresAt?.ToUnixTimeMilliseconds() ?? 0;
    }

    /// <summary>The error for a time-to-live command inside a cross-shard MULTI/EXEC.</summary>
    internal const string ExpiryRefused =
        "ERR NoKV runs this MULTI/EXEC (several keys, or WATCH) as a cross-shard transaction, whose reads and writes do not carry a time to live yet: EX, PX, EXAT, PXAT, SETEX, PSETEX, GETEX, the EXPIRE family, PERSIST, TTL, PTTL and EXPIRETIME cannot be queued in it. Nothing was executed.";

    private void RequireExpiry()
    {
        if (!ExpiryKnown)
        {
            throw new ExpiryUnavailableException(ExpiryRefused);
        }
    }

    private static long OriginalRemaining(Entry entry) =>
        entry.Read is { TimeToLive: { } ttl } ? (long)ttl.TotalMilliseconds : -1;

    public Entry this[int index] => _entries[index];

    private Entry Find(ReadOnlySpan<byte> key)
    {
        foreach (var entry in _entries)
        {
            if (entry.Key.Span.SequenceEqual(key))
            {
                return entry;
            }
        }

        throw new InvalidOperationException("The command touched a key outside its declared key positions.");
    }

    /// <summary>One key: what the store held (when <see cref="Loaded"/>) and what the command leaves.</summary>
    internal sealed class Entry
    {
        public Entry(ReadOnlyMemory<byte> key, byte[]? original, bool Loaded)
        {
            Key = key;
            Original = original;
            Current = original;
            this.Loaded = Loaded;
        }

        public ReadOnlyMemory<byte> Key { get; }

        public byte[]? Original { get; }

        public byte[]? Current { get; set; }

        public bool Loaded { get; }

        public bool Changed { get; set; }

        /// <summary>The read with its expiry, when the executor loaded one.</summary>
        public KvValue? Read { get; init; }

        /// <summary>What the write does to the expiry (meaningful when <see cref="Changed"/>).</summary>
        public ExpiryWrite Expiry { get; set; }
    }
}
