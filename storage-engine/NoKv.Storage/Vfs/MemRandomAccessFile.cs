namespace NoKv.Storage.Vfs;

/// <summary>Positional reads of a <see cref="MemFile"/>. Thread-safe.</summary>
internal sealed class MemRandomAccessFile : IRandomAccessFile
{
    private readonly MemFile _file;

    public MemRandomAccessFile(string path, MemFile file)
    {
        Path = path;
        _file = file;
    }

    public string Path { get; }

    public long Length => _file.Length;

    public int Read(long offset, Span<byte> destination) => _file.Read(offset, destination);

    public FileMapping? TryMap() => _file.Pin();

    public void Dispose()
    {
    }
}
