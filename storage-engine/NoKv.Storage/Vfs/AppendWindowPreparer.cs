using System.Collections.Concurrent;

namespace NoKv.Storage.Vfs;

/// <summary>
/// The one background thread (per process) that prepares the next append window of mapped log files
/// (<see cref="PhysicalWritableFile"/>): zero fill, mapping, and unmapping of the window before.
/// </summary>
/// <remarks>
/// A dedicated thread rather than the thread pool: a log's writer may wait for its preparation, and the writers of a
/// busy process can be the thread pool's own threads, all blocked in group commit behind that writer; the pool would
/// then add a thread only after its starvation delay. Preparations are short (a few hundred microseconds) and rare
/// (one per half MiB of log), so one thread serves every database in the process.
/// </remarks>
internal static class AppendWindowPreparer
{
    private static readonly BlockingCollection<PhysicalWritableFile> Pending = StartThread();

    /// <summary>Queues <paramref name="file"/>'s preparation; it runs <see cref="PhysicalWritableFile.RunPreparation"/> soon after.</summary>
    public static void Enqueue(PhysicalWritableFile file) => Pending.Add(file);

    private static BlockingCollection<PhysicalWritableFile> StartThread()
    {
        var pending = new BlockingCollection<PhysicalWritableFile>();
        var thread = new Thread(() =>
        {
            foreach (PhysicalWritableFile file in pending.GetConsumingEnumerable())
            {
                file.RunPreparation();
            }
        })
        {
            IsBackground = true,
            Name = "nokv-log-window",
        };
        thread.Start();
        return pending;
    }
}
