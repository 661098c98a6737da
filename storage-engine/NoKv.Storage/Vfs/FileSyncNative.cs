using System.Runtime.InteropServices;

namespace NoKv.Storage.Vfs;

/// <summary>libc calls .NET does not expose: fdatasync, sync_file_range, mmap and directory fsync (Unix only).</summary>
internal static unsafe partial class FileSyncNative
{
    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int MapShared = 1;

    /// <summary>mmap's error return, MAP_FAILED.</summary>
    public static readonly nint MapFailed = -1;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint address, nuint length);

    /// <summary>sync_file_range flag: start writeback of dirty pages in the range, do not wait (Linux).</summary>
    public const uint SyncFileRangeWrite = 2;

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    public static partial int SyncFileRange(int fd, long offset, long nbytes, uint flags);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int DataSync(int fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    public static partial int Open(byte[] path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);
}
