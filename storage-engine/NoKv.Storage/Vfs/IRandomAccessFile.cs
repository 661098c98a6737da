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

    /// <summary>
    /// Maps the whole file read-only for zero-copy reads, or returns null when this file cannot be mapped
    /// (the default: fault-injecting and other wrapping files keep every read on <see cref="Read"/>, where
    /// faults are injected). The caller owns the mapping and must dispose it before this file; see
    /// <see cref="FileMapping"/> for its lifetime and failure-mode rules.
    /// </summary>
    FileMapping? TryMap() => null;
}
