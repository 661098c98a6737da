namespace NoKv.Storage;

/// <summary>
/// A frozen, consistent view of the database as of one sequence number. Reads through a snapshot never see
/// later writes. Keep snapshots short-lived: while one is open, compaction must keep every version it can see.
/// Dispose is idempotent and thread-safe.
/// </summary>
public sealed class Snapshot : IDisposable
{
    private readonly SnapshotList _owner;
    private int _disposed;

    internal Snapshot(SnapshotList owner, ulong sequence)
    {
        _owner = owner;
        SequenceNumber = sequence;
    }

    /// <summary>The last sequence number visible through this snapshot.</summary>
    public ulong SequenceNumber { get; }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal Snapshot? Prev { get; set; }

    internal Snapshot? Next { get; set; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner.Remove(this);
        }
    }
}
