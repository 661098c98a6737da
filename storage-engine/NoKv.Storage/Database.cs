using System.Buffers;

namespace NoKv.Storage;

/// <summary>
/// An LSM key-value store in one directory. All methods are thread-safe. Keys are ordered bytewise.
/// </summary>
public sealed class Database : IDisposable, IAsyncDisposable
{
    private Database(string path)
    {
        Path = path;
    }

    public string Path { get; }

    /// <summary>Opens (or creates) the database in <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">Invalid options or path.</exception>
    /// <exception cref="StorageLockedException">Another process or open database holds the directory.</exception>
    /// <exception cref="CorruptionException">The manifest or a log is corrupt.</exception>
    public static Database Open(string path, StorageOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        (options ?? new StorageOptions()).Validate();
        throw new NotImplementedException();
    }

    public byte[]? Get(ReadOnlySpan<byte> key, ReadOptions? options = null) => throw new NotImplementedException();

    public bool TryGet(ReadOnlySpan<byte> key, IBufferWriter<byte> value, ReadOptions? options = null) => throw new NotImplementedException();

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, WriteOptions? options = null) => throw new NotImplementedException();

    public void Delete(ReadOnlySpan<byte> key, WriteOptions? options = null) => throw new NotImplementedException();

    public void DeleteRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, WriteOptions? options = null) => throw new NotImplementedException();

    public void Write(WriteBatch batch, WriteOptions? options = null) => throw new NotImplementedException();

    public ValueTask WriteAsync(WriteBatch batch, WriteOptions? options = null, CancellationToken ct = default) => throw new NotImplementedException();

    public Snapshot GetSnapshot() => throw new NotImplementedException();

    public StorageIterator NewIterator(ReadOptions? options = null) => throw new NotImplementedException();

    public void Flush() => throw new NotImplementedException();

    public void CompactRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end) => throw new NotImplementedException();

    public void ExportRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, Stream destination, Snapshot? snapshot = null) => throw new NotImplementedException();

    public long IngestRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, Stream source) => throw new NotImplementedException();

    public StorageStatistics GetStatistics() => throw new NotImplementedException();

    public void Dispose()
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
