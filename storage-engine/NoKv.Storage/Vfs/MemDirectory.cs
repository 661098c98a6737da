namespace NoKv.Storage.Vfs;

/// <summary>
/// One directory of a <see cref="MemFileSystem"/>: the names a process sees now, and the names a directory
/// fsync made durable (what a power loss would leave). Guarded by the owning file system's lock.
/// </summary>
internal sealed class MemDirectory
{
    public Dictionary<string, MemFile> Live { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, MemFile> Durable { get; } = new(StringComparer.Ordinal);
}
