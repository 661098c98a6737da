namespace NoKv.Storage.Vfs;

/// <summary>A random-access file whose reads consult the owning <see cref="FaultInjectingFileSystem"/>.</summary>
internal sealed class FaultInjectingRandomAccessFile : IRandomAccessFile
{
    private readonly IRandomAccessFile _inner;
    private readonly FaultInjectingFileSystem _fs;

    public FaultInjectingRandomAccessFile(IRandomAccessFile inner, FaultInjectingFileSystem fs)
    {
        _inner = inner;
        _fs = fs;
    }

    public string Path => _inner.Path;

    public long Length => _inner.Length;

    public int Read(long offset, Span<byte> destination)
    {
        _fs.Check(FileOperation.Read, Path);
        return _inner.Read(offset, destination);
    }

    public void Dispose() => _inner.Dispose();
}
