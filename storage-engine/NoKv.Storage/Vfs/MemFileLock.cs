namespace NoKv.Storage.Vfs;

/// <summary>A lock held in a <see cref="MemFileSystem"/> until disposed.</summary>
internal sealed class MemFileLock : IDisposable
{
    private readonly MemFileSystem _fs;
    private readonly string _path;
    private int _disposed;

    public MemFileLock(MemFileSystem fs, string path)
    {
        _fs = fs;
        _path = path;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _fs.ReleaseLock(_path);
        }
    }
}
