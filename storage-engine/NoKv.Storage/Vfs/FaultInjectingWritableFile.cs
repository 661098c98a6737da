namespace NoKv.Storage.Vfs;

/// <summary>A writable file whose appends, flushes and syncs consult the owning <see cref="FaultInjectingFileSystem"/>.</summary>
internal sealed class FaultInjectingWritableFile : IWritableFile
{
    private readonly IWritableFile _inner;
    private readonly FaultInjectingFileSystem _fs;

    public FaultInjectingWritableFile(IWritableFile inner, FaultInjectingFileSystem fs)
    {
        _inner = inner;
        _fs = fs;
    }

    public string Path => _inner.Path;

    public long Length => _inner.Length;

    public void Append(ReadOnlySpan<byte> data)
    {
        FaultAction action = _fs.Decide(FileOperation.Append, Path);
        switch (action)
        {
            case FaultAction.None:
                _inner.Append(data);
                return;
            case FaultAction.ShortWrite:
                _inner.Append(data[..(data.Length / 2)]);
                break;
            case FaultAction.TornWrite:
                _inner.Append(data[..(data.Length / 2)]);
                byte[] garbage = new byte[data.Length - (data.Length / 2)];
                for (int i = 0; i < garbage.Length; i++)
                {
                    // Deterministic noise, so a failing seed reproduces byte for byte.
                    garbage[i] = (byte)((i * 131) + 7);
                }

                _inner.Append(garbage);
                break;
        }

        throw new InjectedFaultException(FileOperation.Append, Path, action);
    }

    public void Flush()
    {
        _fs.Check(FileOperation.Flush, Path);
        _inner.Flush();
    }

    public void Sync()
    {
        _fs.Check(FileOperation.Sync, Path);
        _inner.Sync();
    }

    public void BeginSync() => Flush();

    public void SetZeroFillAhead(int bytes) => _inner.SetZeroFillAhead(bytes);

    public void Dispose() => _inner.Dispose();
}
