namespace NoKv.Storage;

/// <summary>The database directory is held by another process or another open <see cref="Database"/>.</summary>
public sealed class StorageLockedException : IOException
{
    public StorageLockedException(string path, Exception? inner = null)
        : base($"The database lock file '{path}' is held by another process or another open database.", inner)
    {
        Path = path;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }
}
