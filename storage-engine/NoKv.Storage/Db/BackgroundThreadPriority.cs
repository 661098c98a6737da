using System.Runtime.InteropServices;

namespace NoKv.Storage.Db;

/// <summary>
/// Lowers the CPU priority of the calling thread (the engine's flush and compaction threads), so that
/// foreground work (the writer thread, readers, the application around the engine) wins the cores when both
/// want them. Linux only: .NET does not map <see cref="Thread.Priority"/> onto the Linux scheduler, so this
/// sets the thread's nice value directly (setpriority on its thread id; raising one's own nice value needs no
/// privilege). Elsewhere it does nothing.
/// </summary>
/// <remarks>
/// Why: a memtable flush is a burst of CPU (iterate, encode, checksum, filter) that competes with the writes it
/// serves. Measured in the cluster benchmark (three silos and the client on 2 cores, every silo flushing the same
/// 50 MB memtable at once): the three flush threads took about 1.1 of the 2 cores for half a second, and the
/// writes in flight meanwhile waited 20-90 ms. With nice 10 a flush thread gets about a tenth of a contended
/// core's share (CFS weight 110 against 1024) and the whole core when it is idle, so flushes take longer only
/// while the foreground is busy; a flush that falls far behind still ends in the usual write stall.
/// </remarks>
internal static partial class BackgroundThreadPriority
{
    private const int PrioProcess = 0;

    /// <summary>Sets the calling thread's nice value to <paramref name="nice"/> (1-19); 0 leaves it alone. Best effort: failures are ignored.</summary>
    public static void LowerCurrentThread(int nice)
    {
        if (nice <= 0 || !OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            // On Linux "process" priority calls address a single thread when given a thread id.
            _ = SetPriority(PrioProcess, GetThreadId(), nice);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // An unusual libc: the thread keeps normal priority, which is only slower to share.
        }
    }

    /// <summary>The calling thread's nice value (Linux), for tests; null elsewhere.</summary>
    internal static int? CurrentThreadNice()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Marshal.SetLastPInvokeError(0);
        int value = GetPriority(PrioProcess, GetThreadId());
        return value == -1 && Marshal.GetLastPInvokeError() != 0 ? null : value;
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int prio);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, int who);
}
