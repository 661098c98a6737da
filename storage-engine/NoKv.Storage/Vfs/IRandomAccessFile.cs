namespace NoKv.Storage.Vfs;

/// <summary>An immutable file read at arbitrary offsets. Thread-safe: concurrent reads are allowed.</summary>
public interface IRandomAccessFile : IDisposable
{
    string Path { get; }

    long Length { get; }

    /// <summary>
    /// Reads up to <c>destination.Length</c> bytes at <paramref name="offset"/>; returns the count read,
    /// which is smaller only at the end of the file.
    /// </summary>
    int Read(long offset, Span<byte> destination);
}
