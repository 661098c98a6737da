using NoKv.Storage.Db;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.ValueLog;

/// <summary>
/// Moves values out of a flush's or compaction's table output into value files: each value at or above the
/// threshold is appended to the current value file and replaced by its pointer. Files are cut at the target
/// size (between values). Not thread-safe; one per flush or compaction.
/// </summary>
internal sealed class ValueSeparator
{
    private readonly IFileSystem _fs;
    private readonly string _dir;
    private readonly Func<ulong> _newFileNumber;
    private readonly long _targetFileBytes;
    private readonly long _bytesPerSync;
    private readonly WriteRateLimiter? _limiter;
    private readonly List<ValueFileMeta> _finished = [];
    private ValueFileWriter? _current;
    private byte[] _pointer = new byte[ValuePointer.MaxEncodedLength];

    public ValueSeparator(IFileSystem fs, string dir, Func<ulong> newFileNumber, long targetFileBytes, long bytesPerSync, WriteRateLimiter? limiter)
    {
        _fs = fs;
        _dir = dir;
        _newFileNumber = newFileNumber;
        _targetFileBytes = targetFileBytes;
        _bytesPerSync = bytesPerSync;
        _limiter = limiter;
    }

    /// <summary>Appends the value; returns its encoded pointer (valid until the next call) and the pointer itself.</summary>
    public ReadOnlySpan<byte> Add(ReadOnlySpan<byte> userKey, ReadOnlySpan<byte> value, out ValuePointer pointer)
    {
        if (_current is not null && _current.Length >= _targetFileBytes)
        {
            _finished.Add(_current.Finish());
            _current = null;
        }

        _current ??= new ValueFileWriter(_fs, _dir, _newFileNumber(), _bytesPerSync, _limiter);
        pointer = _current.Add(userKey, value);
        int n = pointer.EncodeTo(_pointer);
        return _pointer.AsSpan(0, n);
    }

    /// <summary>Finishes (syncs) the open file; returns every file written. REQUIRES: called once, before the tables' manifest edit.</summary>
    public List<ValueFileMeta> Finish()
    {
        if (_current is not null)
        {
            ValueFileWriter current = _current;
            _current = null;
            _finished.Add(current.Finish());
        }

        return _finished;
    }

    /// <summary>Deletes every file written so far (the work failed before any manifest named them).</summary>
    public void Abandon()
    {
        _current?.Abandon();
        _current = null;
        foreach (ValueFileMeta f in _finished)
        {
            try
            {
                _fs.DeleteFile(FileNames.ValueFile(_dir, f.Number));
            }
            catch (IOException)
            {
                // The open-time sweep deletes it.
            }
        }

        _finished.Clear();
    }
}
