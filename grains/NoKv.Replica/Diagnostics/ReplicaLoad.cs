namespace NoKv.Replica.Diagnostics;

/// <summary>
/// Running totals of one replica's client traffic, for per-shard rates on the dashboard. Written only by the
/// replica's own logical thread; readers on other threads see each field atomically (64-bit) but not the fields
/// as one consistent set, which is enough for rates.
/// </summary>
public sealed class ReplicaLoad
{
    private long _writes;
    private long _reads;
    private long _writeBytes;

    public long Writes => Volatile.Read(ref _writes);

    public long Reads => Volatile.Read(ref _reads);

    /// <summary>Bytes of keys and values in writes this replica accepted as leader.</summary>
    public long WriteBytes => Volatile.Read(ref _writeBytes);

    internal void AddWrite(int bytes)
    {
        Volatile.Write(ref _writes, _writes + 1);
        Volatile.Write(ref _writeBytes, _writeBytes + bytes);
    }

    internal void AddRead() => Volatile.Write(ref _reads, _reads + 1);
}
