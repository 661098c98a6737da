namespace NoKv.Storage;

/// <summary>
/// The open snapshots of a database, oldest first. Compaction asks it for the sequence numbers it must keep
/// visible. Thread-safe (one lock; snapshots are taken and released rarely compared with reads).
/// </summary>
internal sealed class SnapshotList
{
    private readonly Lock _gate = new();
    private Snapshot? _head;
    private Snapshot? _tail;
    private int _count;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>
    /// Registers a snapshot at <paramref name="db"/>'s present. The present is read under the lock that
    /// <see cref="GetSequences"/> takes, so a flush or compaction that asked for the open snapshots either sees
    /// this one or asked before its sequence was read: then the snapshot is at or above every sequence of the
    /// job's inputs (all published before the job began) and sees whatever hid each version the job drops.
    /// </summary>
    public Snapshot Create(Database db)
    {
        lock (_gate)
        {
            var s = new Snapshot(this, db.LastSequence);
            // Sequences only grow, so appending keeps the list sorted.
            s.Prev = _tail;
            if (_tail is null)
            {
                _head = s;
            }
            else
            {
                _tail.Next = s;
            }

            _tail = s;
            _count++;
            return s;
        }
    }

    public void Remove(Snapshot s)
    {
        lock (_gate)
        {
            if (s.Prev is null)
            {
                _head = s.Next;
            }
            else
            {
                s.Prev.Next = s.Next;
            }

            if (s.Next is null)
            {
                _tail = s.Prev;
            }
            else
            {
                s.Next.Prev = s.Prev;
            }

            s.Prev = null;
            s.Next = null;
            _count--;
        }
    }

    /// <summary>Sequence numbers of all open snapshots, ascending (duplicates removed).</summary>
    public ulong[] GetSequences()
    {
        lock (_gate)
        {
            var result = new List<ulong>(_count);
            for (Snapshot? s = _head; s is not null; s = s.Next)
            {
                if (result.Count == 0 || result[^1] != s.SequenceNumber)
                {
                    result.Add(s.SequenceNumber);
                }
            }

            return result.ToArray();
        }
    }
}
