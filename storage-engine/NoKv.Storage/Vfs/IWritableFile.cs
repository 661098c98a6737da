namespace NoKv.Storage.Vfs;

/// <summary>An append-only file. Not thread-safe: one writer at a time.</summary>
public interface IWritableFile : IDisposable
{
    string Path { get; }

    /// <summary>Bytes appended so far, including those not yet flushed.</summary>
    long Length { get; }

    void Append(ReadOnlySpan<byte> data);

    /// <summary>Hands buffered bytes to the operating system (survives a process crash, not a power loss).</summary>
    void Flush();

    /// <summary>Flushes and makes every appended byte durable (survives a power loss).</summary>
    void Sync();
}
