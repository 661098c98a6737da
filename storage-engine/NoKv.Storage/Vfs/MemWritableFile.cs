namespace NoKv.Storage.Vfs;

/// <summary>Appends to a <see cref="MemFile"/>. Not thread-safe (one writer), like every <see cref="IWritableFile"/>.</summary>
internal sealed class MemWritableFile : IWritableFile
{
    private readonly MemFile _file;
    private bool _disposed;

    public MemWritableFile(string path, MemFile file)
    {
        Path = path;
        _file = file;
    }

    public string Path { get; }

    public long Length => _file.Length;

    public void Append(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _file.Append(data);
    }

    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    public void Sync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _file.Sync();
    }

    public void BeginSync() => Flush();

    /// <summary>Modelled only in what a crash leaves behind (see <see cref="MemFile"/>).</summary>
    public void SetZeroFillAhead(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        _file.SetZeroFillAhead(bytes);
    }

    public void Dispose() => _disposed = true;
}
