using Microsoft.Win32.SafeHandles;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace NoKv.Storage.Vfs;

/// <summary>
/// The real file system: positional reads and writes through <see cref="RandomAccess"/> on a
/// <see cref="Microsoft.Win32.SafeHandles.SafeFileHandle"/>, fsync through
/// <see cref="RandomAccess.FlushToDisk"/>, and directory fsync on Unix (open the directory, fsync, close),
/// which is what makes file creations and renames durable there. Thread-safe.
/// </summary>
public sealed class PhysicalFileSystem : IFileSystem
{
    /// <summary>Lock files held by this process (full path), so a second open in-process fails clearly too.</summary>
    private static readonly ConcurrentDictionary<string, byte> HeldLocks = new(StringComparer.Ordinal);

    private PhysicalFileSystem()
    {
    }

    public static PhysicalFileSystem Instance { get; } = new();

    public IWritableFile CreateWritable(string path) => new PhysicalWritableFile(path, FileMode.Create);

    public IWritableFile OpenAppendable(string path) => new PhysicalWritableFile(path, FileMode.Open);

    public IRandomAccessFile OpenRandomAccess(string path) => new PhysicalRandomAccessFile(path);

    public Stream OpenSequential(string path) =>
        new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 << 10, FileOptions.SequentialScan);

    public bool FileExists(string path) => File.Exists(path);

    public bool DirectoryExists(string path) => Directory.Exists(path);

    public long GetFileLength(string path) => new FileInfo(path).Length;

    public void DeleteFile(string path) => File.Delete(path);

    public void DeleteFileGradually(string path, long stepBytes, TimeSpan pause)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepBytes);
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            long length = RandomAccess.GetLength(handle);
            while (length > stepBytes)
            {
                length -= stepBytes;
                RandomAccess.SetLength(handle, length);
                Thread.Sleep(pause);
            }
        }
        catch (FileNotFoundException)
        {
            // Already gone; File.Delete below is a no-op for a missing file.
        }

        File.Delete(path);
    }

    public void RenameFile(string source, string destination) => File.Move(source, destination, overwrite: true);

    public void CreateDirectory(string path) => Directory.CreateDirectory(path);

    public IReadOnlyList<string> ListFiles(string directory)
    {
        var result = new List<string>();
        foreach (string f in Directory.EnumerateFiles(directory))
        {
            result.Add(Path.GetFileName(f));
        }

        return result;
    }

    public void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            // NTFS journals metadata; there is no directory handle fsync to issue.
            return;
        }

        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(directory + "\0");
        int fd = FileSyncNative.Open(utf8, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (FileSyncNative.Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = FileSyncNative.Close(fd);
        }
    }

    public IDisposable LockFile(string path)
    {
        string full = Path.GetFullPath(path);
        if (!HeldLocks.TryAdd(full, 0))
        {
            throw new StorageLockedException(full);
        }

        try
        {
            // FileShare.None is enforced across processes (an advisory flock on Unix, a share mode on Windows).
            var stream = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            return new PhysicalFileLock(full, stream, HeldLocks);
        }
        catch (IOException e)
        {
            HeldLocks.TryRemove(full, out _);
            throw new StorageLockedException(full, e);
        }
        catch
        {
            HeldLocks.TryRemove(full, out _);
            throw;
        }
    }
}
