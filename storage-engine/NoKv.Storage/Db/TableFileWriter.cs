using NoKv.Storage.Manifest;
using NoKv.Storage.RangeDeletion;
using NoKv.Storage.Sstable;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Db;

/// <summary>
/// Writes one new table file (flush, compaction or ingest output) and tracks its bounds, producing the
/// <see cref="FileMetaData"/> to record in the manifest. The file is synced by <see cref="Finish"/>; the caller
/// makes its name durable (directory fsync) before the manifest edit. Not thread-safe.
/// </summary>
internal sealed class TableFileWriter
{
    private readonly IFileSystem _fs;
    private readonly string _path;
    private readonly IWritableFile _file;
    private readonly TableBuilder _builder;
    private readonly FileBoundsTracker _bounds = new();
    private long _entries;

    public TableFileWriter(IFileSystem fs, string dir, ulong number, TableOptions options)
    {
        _fs = fs;
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
    }

    /// <summary>Completes and syncs the table; <paramref name="tombstones"/> ride along in the metadata.</summary>
    public FileMetaData Finish(RangeTombstone[] tombstones)
    {
        try
        {
            TableProperties props = _builder.Finish();
            _file.Sync();
            _file.Dispose();
            foreach (RangeTombstone t in tombstones)
            {
                _bounds.AddTombstone(t);
            }

            return _bounds.ToFile(Number, props.FileSize, _entries, tombstones);
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
