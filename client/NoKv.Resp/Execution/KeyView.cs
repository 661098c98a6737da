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

    /// <summary>Whether any command changed any key.</summary>
    public bool Written { get; private set; }

    /// <summary>Adds a key read from the store (<paramref name="value"/> null = absent).</summary>
    public void Load(ReadOnlyMemory<byte> key, byte[]? value) => _entries.Add(new Entry(key, value, Loaded: true));

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

    /// <summary>Sets the key's value; null deletes it.</summary>
    public void Set(ReadOnlySpan<byte> key, byte[]? value)
    {
        var entry = Find(key);
        entry.Current = value;
        entry.Changed = true;
        Written = true;
    }

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
    }
}
