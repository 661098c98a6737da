namespace NoKv.Grains.Controller;

/// <summary>
/// One hosted replica's figures for the store heartbeat. Written by the replica grain on its own turns (role and
/// indexes once per tick, a read count per read), read by the heartbeat loop on another thread: every field is a
/// single aligned word read and written with volatile semantics, so a reader sees each value whole, if a tick late.
/// Nothing here is on the write path: writes are counted by the applied index.
/// </summary>
public sealed class ReplicaLoad
{
    private long _reads;
    private long _applied;
    private long _epoch;
    private long _confVersion;
    private int _isLeader;

    public long Reads => Volatile.Read(ref _reads);

    public long AppliedIndex => Volatile.Read(ref _applied);

    public long Epoch => Volatile.Read(ref _epoch);

    public long ConfVersion => Volatile.Read(ref _confVersion);

    public bool IsLeader => Volatile.Read(ref _isLeader) != 0;

    /// <summary>Counts one read; called only from the replica's turns (single writer).</summary>
    public void CountRead() => Volatile.Write(ref _reads, _reads + 1);

    public void Publish(bool isLeader, long applied, long epoch, long confVersion)
    {
        Volatile.Write(ref _isLeader, isLeader ? 1 : 0);
        Volatile.Write(ref _applied, applied);
        Volatile.Write(ref _epoch, epoch);
        Volatile.Write(ref _confVersion, confVersion);
    }
}
