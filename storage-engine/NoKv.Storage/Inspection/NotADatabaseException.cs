namespace NoKv.Storage.Inspection;

/// <summary>A directory given to <see cref="DatabaseInspector"/> holds no engine database (no CURRENT file), or does not exist.</summary>
public sealed class NotADatabaseException : IOException
{
    public NotADatabaseException(string path, string message)
        : base(message)
    {
        Path = path;
    }

    /// <summary>The directory that was examined.</summary>
    public string Path { get; }
}
