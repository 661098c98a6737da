using NoKv.Storage.Manifest;
using NoKv.Storage.RangeDeletion;
using NoKv.Storage.Sstable;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Db;

/// <summary>
/// Writes one new table file (flush, compaction or ingest output) and tracks its bounds, producing the
/// <see cref="FileMetaData"/> to record in the manifest. The file is synced by <see cref="Finish"/>; the caller
/// makes its name durable (directory fsync) before the manifest edit. With a positive bytes-per-sync, the file's
/// written bytes are handed to the device as it grows (<see cref="IWritableFile.BeginSync"/> every that many
/// bytes), so the final sync finds little left to write; see <see cref="StorageOptions.TableBytesPerSync"/>.
/// Not thread-safe.
/// </summary>
internal sealed class TableFileWriter
{
    private readonly IFileSystem _fs;
    private readonly string _path;
    private readonly IWritableFile _file;
    private readonly TableBuilder _builder;
    // Granularity of pacing when no writeback interval is set: small enough that one chunk is a short burst.
    private const long PacingChunkBytes = 1 << 20;

    private readonly FileBoundsTracker _bounds = new();
    private readonly long _bytesPerSync;
    private readonly WriteRateLimiter? _limiter;
    private readonly long _checkEvery;
    private long _entries;
    private long _checkedLength;

    // Value files the table's pointer entries point into (usually one or a few: a sorted list stays small).
    private List<ulong>? _valueFiles;
    private long _separatedBytes;

    /// <param name="bytesPerSync">Start writeback every this many bytes; 0 only syncs at <see cref="Finish"/>.</param>
    /// <param name="limiter">Paces the bytes written (background work only); null writes at full speed.</param>
    public TableFileWriter(IFileSystem fs, string dir, ulong number, TableOptions options, long bytesPerSync = 0, WriteRateLimiter? limiter = null)
    {
        _fs = fs;
        _bytesPerSync = bytesPerSync;
        _limiter = limiter;
        _checkEvery = bytesPerSync > 0 ? bytesPerSync : limiter is not null ? PacingChunkBytes : long.MaxValue;
        Number = number;
        _path = FileNames.Table(dir, number);
        _file = fs.CreateWritable(_path);
        try
        {
            _builder = new TableBuilder(_file, options);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public ulong Number { get; }

    public long EstimatedSize => _builder.EstimatedFileSize;

    /// <summary>REQUIRES: internal keys in strictly increasing order.</summary>
    public void Add(ReadOnlySpan<byte> internalKey, ReadOnlySpan<byte> value)
    {
        _builder.Add(internalKey, value);
        _bounds.AddKey(internalKey);
        _entries++;
        long written = _file.Length - _checkedLength;
        if (written >= _checkEvery)
        {
            _checkedLength += written;
            if (_bytesPerSync > 0)
            {
                // A hint that makes nothing durable: the sync in Finish still decides durability.
                _file.BeginSync();
            }

            _limiter?.Acquire(written);
        }
    }

    /// <summary>Records that an entry added to the table points to a value of <paramref name="size"/> bytes in value file <paramref name="number"/>.</summary>
    public void NoteValueFile(ulong number, int size)
    {
        _separatedBytes += size;
        _valueFiles ??= [];
        int i = _valueFiles.BinarySearch(number);
        if (i < 0)
        {
            _valueFiles.Insert(~i, number);
        }
    }

    /// <summary>Completes and syncs the table; <paramref name="tombstones"/> ride along in the metadata.</summary>
    public FileMetaData Finish(RangeTombstone[] tombstones)
    {
        try
        {
            TableProperties props = _builder.Finish();
            _limiter?.Acquire(_file.Length - _checkedLength);
            _file.Sync();
            _file.Dispose();
            foreach (RangeTombstone t in tombstones)
            {
                _bounds.AddTombstone(t);
            }

            FileMetaData file = _bounds.ToFile(Number, props.FileSize, _entries, tombstones);
            if (_valueFiles is not null)
            {
                file.ValueFiles = [.. _valueFiles];
                file.SeparatedValueBytes = _separatedBytes;
            }

            return file;
        }
        catch
        {
            Abandon();
            throw;
        }
    }

    /// <summary>Stops writing and deletes the partial file (best effort; the open-time sweep catches leftovers).</summary>
    public void Abandon()
    {
        _builder.Abandon();
        _file.Dispose();
        try
        {
            _fs.DeleteFile(_path);
        }
        catch (IOException)
        {
            // Unreferenced by any manifest: deleted by the sweep at the next open.
        }
    }
}
