using System.Runtime.InteropServices;

namespace NoKv.Storage.Vfs;

/// <summary>libc calls .NET does not expose: fdatasync and directory fsync (Unix only).</summary>
internal static partial class FileSyncNative
{
    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int DataSync(int fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    public static partial int Open(byte[] path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);
}
