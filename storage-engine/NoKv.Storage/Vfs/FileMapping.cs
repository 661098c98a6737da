namespace NoKv.Storage.Vfs;

/// <summary>
/// A read-only view of a whole file's contents in memory, from <see cref="IRandomAccessFile.TryMap"/>: a
/// memory-mapped file on the physical file system, a pinned array in memory. Readers slice it instead of
/// issuing a positional read per block: no copy, no allocation, no system call.
/// </summary>
/// <remarks>
/// Thread-safe for reads. Only for files that no longer change (tables): bytes appended after the mapping
/// was made are not in it, and truncating a mapped file makes touching the lost pages fail.
/// Lifetime: every pointer and span obtained from the mapping is valid only until <see cref="Dispose"/>;
/// the owner (the table reader, kept open by table-cache reference counts) disposes it only when no reader
/// holds it.
/// Failure mode: with the physical file system, an I/O error while the kernel pages a mapped region in
/// (a failing disk, a file truncated underneath) is delivered as a fatal signal (SIGBUS on Unix, an
/// in-page error on Windows) that ends the process, not as an exception that a caller could handle; data
/// that was read is still checked (block checksums), so damaged data is never returned. Databases that
/// must survive media errors as exceptions turn mapping off (<see cref="StorageOptions.UseMappedReads"/>).
/// </remarks>
public abstract unsafe class FileMapping : IDisposable
{
    private int _disposed;

    private protected FileMapping(byte* pointer, long length)
    {
        Pointer = pointer;
        Length = length;
    }

    /// <summary>Bytes mapped (the file's length when it was mapped).</summary>
    public long Length { get; }

    /// <summary>Start of the mapped contents; valid until <see cref="Dispose"/>.</summary>
    internal byte* Pointer { get; }

    /// <summary>The bytes at [offset, offset + length); throws <see cref="ArgumentOutOfRangeException"/> outside the mapping.</summary>
    public ReadOnlySpan<byte> Slice(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset}+{length}) is outside the {Length}-byte mapping.");
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new ReadOnlySpan<byte>(Pointer + offset, length);
    }

    /// <summary>Releases the mapping (once). REQUIRES: nobody uses a pointer or span from it any more.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Release();
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Unmaps or unpins; called once.</summary>
    private protected abstract void Release();
}
