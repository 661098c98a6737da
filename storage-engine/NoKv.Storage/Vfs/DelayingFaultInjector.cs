namespace NoKv.Storage.Vfs;

/// <summary>
/// A slow disk: blocks the calling thread for <see cref="Delay"/> before every matching operation, then lets it run
/// normally (it never fails one). The delay can be changed at any time from any thread, so a test or a debug switch
/// can make a live engine's disk slow and then normal again; zero (the default) delays nothing. Why blocking: the
/// engine's writer, flush and compaction threads do synchronous I/O, and a real fsync that takes long blocks them the
/// same way. Thread-safe.
/// </summary>
public sealed class DelayingFaultInjector : IFaultInjector
{
    /// <summary>What a slow disk is slow at by default: making data durable (file and directory syncs), as in etcd's "slow fdatasync".</summary>
    public const FileOperation DefaultOperations = FileOperation.Sync | FileOperation.SyncDirectory;

    private long _delayTicks;
    private long _delayed;

    public DelayingFaultInjector(FileOperation operations = DefaultOperations)
    {
        Operations = operations;
    }

    public FileOperation Operations { get; }

    /// <summary>How long each matching operation waits before it runs; zero = not at all. Negative values are refused.</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Interlocked.Exchange(ref _delayTicks, value.Ticks);
        }
    }

    /// <summary>Operations delayed so far (lets a test check the delay applied).</summary>
    public long Delayed => Interlocked.Read(ref _delayed);

    public FaultAction OnOperation(FileOperation operation, string path)
    {
        long ticks = Interlocked.Read(ref _delayTicks);
        if (ticks > 0 && (operation & Operations) != 0)
        {
            Interlocked.Increment(ref _delayed);
            Thread.Sleep(TimeSpan.FromTicks(ticks));
        }

        return FaultAction.None;
    }
}
