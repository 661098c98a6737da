using NoKv.Storage.Vfs;

namespace NoKv.Storage.Tests.Support;

/// <summary>Wraps a file system and counts random-access opens and the handles still open.</summary>
internal sealed class CountingFileSystem(IFileSystem inner) : IFileSystem
{
    private int _opens;
    private int _openHandles;
    private int _reads;

    public int Opens => Volatile.Read(ref _opens);

    public int OpenHandles => Volatile.Read(ref _openHandles);

    public int Reads => Volatile.Read(ref _reads);

    public IRandomAccessFile OpenRandomAccess(string path)
    {
        IRandomAccessFile file = inner.OpenRandomAccess(path);
        Interlocked.Increment(ref _opens);
        Interlocked.Increment(ref _openHandles);
        return new CountedFile(file, this);
    }

    public IWritableFile CreateWritable(string path) => inner.CreateWritable(path);

    public IWritableFile OpenAppendable(string path) => inner.OpenAppendable(path);

    public Stream OpenSequential(string path) => inner.OpenSequential(path);

    public bool FileExists(string path) => inner.FileExists(path);

    public bool DirectoryExists(string path) => inner.DirectoryExists(path);

    public long GetFileLength(string path) => inner.GetFileLength(path);

    public void DeleteFile(string path) => inner.DeleteFile(path);

    public void RenameFile(string source, string destination) => inner.RenameFile(source, destination);

    public void CreateDirectory(string path) => inner.CreateDirectory(path);

    public IReadOnlyList<string> ListFiles(string directory) => inner.ListFiles(directory);

    public void SyncDirectory(string directory) => inner.SyncDirectory(directory);

    public IDisposable LockFile(string path) => inner.LockFile(path);

    private sealed class CountedFile(IRandomAccessFile file, CountingFileSystem owner) : IRandomAccessFile
    {
        private int _disposed;

        public string Path => file.Path;

        public long Length => file.Length;

        public int Read(long offset, Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            Interlocked.Increment(ref owner._reads);
            return file.Read(offset, destination);
        }

        // Maps when the inner file can, so database tests over this file system run the mapped read path.
        public FileMapping? TryMap() => file.TryMap();

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._openHandles);
                file.Dispose();
            }
        }
    }
}
