using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Diagnostics;

/// <summary>
/// Running totals of one replica's client traffic and its latest role and indexes, for per-shard rates on the
/// dashboard and the store's heartbeat to the controller. Written only by the replica's own logical thread;
/// readers on other threads see each field atomically (64-bit) but not the fields as one consistent set, which is
/// enough for rates and for a heartbeat that is a tick late at worst.
/// </summary>
public sealed class ReplicaLoad
{
    private long _writes;
    private long _reads;
    private long _writeBytes;
    private long _applied;
    private long _epoch;
    private long _confVersion;
    private int _isLeader;
    private KeyRange? _range;
    private LockFreeReport? _lockFree;

    public long Writes => Volatile.Read(ref _writes);

    /// <summary>Keys of the requests this replica served as leader since the last heartbeat, for load splits.</summary>
    public LoadKeySampler Keys { get; } = new();

    public long Reads => Volatile.Read(ref _reads);

    /// <summary>Bytes of keys and values in writes this replica accepted as leader.</summary>
    public long WriteBytes => Volatile.Read(ref _writeBytes);

    public long AppliedIndex => Volatile.Read(ref _applied);

    public long Epoch => Volatile.Read(ref _epoch);

    public long ConfVersion => Volatile.Read(ref _confVersion);

    public bool IsLeader => Volatile.Read(ref _isLeader) != 0;

    /// <summary>The shard's key range as last published (null before the first publish), for size estimates.</summary>
    public KeyRange? Range => Volatile.Read(ref _range);

    /// <summary>The latest lock-free point this replica found as leader (null before its first complete GC round).</summary>
    public LockFreeReport? LockFree => Volatile.Read(ref _lockFree);

    internal void PublishLockFree(LockFreeReport report) => Volatile.Write(ref _lockFree, report);

    /// <summary>Records the replica's role and indexes; the host calls it on its tick (single writer).</summary>
    public void Publish(bool isLeader, long applied, long epoch, long confVersion, KeyRange? range = null)
    {
        if (range is not null)
        {
            Volatile.Write(ref _range, range);
        }

        Volatile.Write(ref _isLeader, isLeader ? 1 : 0);
        Volatile.Write(ref _applied, applied);
        Volatile.Write(ref _epoch, epoch);
        Volatile.Write(ref _confVersion, confVersion);
    }

    internal void AddWrite(int bytes)
    {
        Volatile.Write(ref _writes, _writes + 1);
        Volatile.Write(ref _writeBytes, _writeBytes + bytes);
    }

    internal void AddRead() => Volatile.Write(ref _reads, _reads + 1);
}
