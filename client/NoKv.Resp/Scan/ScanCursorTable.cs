namespace NoKv.Resp.Scan;

/// <summary>
/// Unfinished SCAN cursors of one gateway. A Redis cursor is a number, but NoKV keys are arbitrary bytes ordered
/// across shards, so the position is the last key examined, and the number handed out names it: a random 63-bit
/// id (never 0, which means "done"; positive so clients that parse it as a signed long agree). The next SCAN resumes
/// strictly after that key, whichever shard now holds it, so a key present for the whole iteration is returned
/// exactly once, and splits or moves between calls change nothing.
/// Bounded: at most <c>capacity</c> cursors, each forgotten after <c>lifetime</c> unused (the oldest first when
/// full); a forgotten or unknown cursor gets "ERR invalid cursor". Thread-safe.
/// </summary>
internal sealed class ScanCursorTable
{
    private readonly object _gate = new();
    private readonly Dictionary<long, Entry> _cursors = new();
    private readonly LinkedList<long> _byAge = new();
    private readonly int _capacity;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;

    public ScanCursorTable(int capacity, TimeSpan lifetime, TimeProvider time)
    {
        _capacity = capacity;
        _lifetime = lifetime;
        _time = time;
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _cursors.Count;
            }
        }
    }

    /// <summary>Remembers <paramref name="lastKey"/> and returns the cursor that resumes after it.</summary>
    public long Add(byte[] lastKey)
    {
        lock (_gate)
        {
            Expire();
            while (_cursors.Count >= _capacity)
            {
                Remove(_byAge.First!.Value);
            }

            long id;
            do
            {
                id = Random.Shared.NextInt64(1, long.MaxValue);
            }
            while (_cursors.ContainsKey(id));

            var node = _byAge.AddLast(id);
            _cursors[id] = new Entry(lastKey, _time.GetTimestamp(), node);
            return id;
        }
    }

    /// <summary>
    /// The key a cursor resumes after, or false when the cursor is unknown or expired. A cursor stays valid after
    /// use (a client may repeat a SCAN whose reply it lost) until it expires or is pushed out by newer ones.
    /// </summary>
    public bool TryGet(long id, out byte[] lastKey)
    {
        lock (_gate)
        {
            Expire();
            if (_cursors.TryGetValue(id, out var entry))
            {
                lastKey = entry.LastKey;
                return true;
            }

            lastKey = [];
            return false;
        }
    }

    private void Expire()
    {
        long now = _time.GetTimestamp();
        while (_byAge.First is { } oldest && _time.GetElapsedTime(_cursors[oldest.Value].CreatedAt, now) > _lifetime)
        {
            Remove(oldest.Value);
        }
    }

    private void Remove(long id)
    {
        if (_cursors.Remove(id, out var entry))
        {
            _byAge.Remove(entry.Node);
        }
    }

    private sealed record Entry(byte[] LastKey, long CreatedAt, LinkedListNode<long> Node);
}
