using System.Runtime.InteropServices;

namespace NoKv.Storage.Memtable;

/// <summary>
/// Gives the physical memory behind an idle arena chunk back to the operating system while the chunk itself (a
/// managed array) stays allocated: on Linux, madvise(MADV_DONTNEED) of the whole pages inside the array's data.
/// Those pages read as zeros afterwards and are faulted back in, zeroed, when next written, exactly like the pages
/// of a freshly allocated chunk. Elsewhere it does nothing.
/// </summary>
/// <remarks>
/// Safe only for an array nobody reads or writes meanwhile (a chunk on the pool's free list, under its lock): the
/// array is pinned for the call, so the pages released are its own, and the only change anyone can observe later is
/// that its contents became zeros, which a recycled chunk's user never relies on either way (the skiplist writes
/// every byte it reads). The bytes before the first and after the last whole page keep their contents.
/// </remarks>
internal static unsafe partial class ChunkMemory
{
    private const int MadvDontNeed = 4;

    /// <summary>Releases the whole pages inside <paramref name="array"/>; returns how many bytes were released (0 if none or not supported).</summary>
    public static long ReleasePages(byte[] array)
    {
        if (!OperatingSystem.IsLinux() || array.Length == 0)
        {
            return 0;
        }

        long pageSize = Environment.SystemPageSize;
        fixed (byte* data = array)
        {
            long start = ((long)data + pageSize - 1) & ~(pageSize - 1);
            long end = ((long)data + array.Length) & ~(pageSize - 1);
            if (end <= start)
            {
                return 0;
            }

            try
            {
                return Madvise((nint)start, (nuint)(end - start), MadvDontNeed) == 0 ? end - start : 0;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // An unusual libc: the memory simply stays resident.
                return 0;
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}
