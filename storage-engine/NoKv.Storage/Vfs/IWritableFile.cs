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

    /// <summary>
    /// Flushes, and asks the device to start writing the flushed bytes without waiting for them, so that work
    /// done before the next <see cref="Sync"/> overlaps the I/O. A hint: it makes nothing durable, and
    /// implementations may do only the flush.
    /// </summary>
    void BeginSync();

    /// <summary>
    /// Asks the file to keep about <paramref name="bytes"/> of physically written zeros past the append
    /// position (0, the default, turns it off). An append then overwrites space the file already has, so a
    /// later <see cref="Sync"/> persists data only: on ext4, the fdatasync of an append that grows the file
    /// must also commit the size change to the journal, which cost about 50 µs per sync on the reference
    /// machine. The zeros are not part of <see cref="Length"/>, but a reader of the file sees them after the
    /// last appended byte, so a format that uses this must read a run of zeros as its end. Implementations
    /// that gain nothing from it may ignore the request.
    /// </summary>
    void SetZeroFillAhead(int bytes);
}
