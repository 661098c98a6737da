namespace NoKv.Storage.Vfs;

/// <summary>
/// Wraps any <see cref="IFileSystem"/> and asks an <see cref="IFaultInjector"/> before every operation whether
/// to fail it, cut an append short, or tear it (half written, rest garbage). Injected failures are
/// <see cref="InjectedFaultException"/>s, so a test can tell them from real errors. Thread-safe if the inner
/// file system and the injector are.
/// </summary>
public sealed class FaultInjectingFileSystem : IFileSystem
{
    private readonly IFileSystem _inner;
    private readonly IFaultInjector _injector;

    public FaultInjectingFileSystem(IFileSystem inner, IFaultInjector injector)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _injector = injector ?? throw new ArgumentNullException(nameof(injector));
    }

    public IFileSystem Inner => _inner;

    public IWritableFile CreateWritable(string path)
    {
        Check(FileOperation.Create, path);
        return new FaultInjectingWritableFile(_inner.CreateWritable(path), this);
    }

    public IWritableFile OpenAppendable(string path)
    {
        Check(FileOperation.OpenAppend, path);
        return new FaultInjectingWritableFile(_inner.OpenAppendable(path), this);
    }

    public IRandomAccessFile OpenRandomAccess(string path)
    {
        Check(FileOperation.OpenRead, path);
        return new FaultInjectingRandomAccessFile(_inner.OpenRandomAccess(path), this);
    }

    public Stream OpenSequential(string path)
    {
        Check(FileOperation.OpenRead, path);
        return _inner.OpenSequential(path);
    }

    public bool FileExists(string path) => _inner.FileExists(path);

    public bool DirectoryExists(string path) => _inner.DirectoryExists(path);

    public long GetFileLength(string path) => _inner.GetFileLength(path);

    public void DeleteFile(string path)
    {
        Check(FileOperation.Delete, path);
        _inner.DeleteFile(path);
    }

    public void RenameFile(string source, string destination)
    {
        Check(FileOperation.Rename, destination);
        _inner.RenameFile(source, destination);
    }

    public void CreateDirectory(string path)
    {
        Check(FileOperation.CreateDirectory, path);
        _inner.CreateDirectory(path);
    }

    public IReadOnlyList<string> ListFiles(string directory)
    {
        Check(FileOperation.List, directory);
        return _inner.ListFiles(directory);
    }

    public void SyncDirectory(string directory)
    {
        Check(FileOperation.SyncDirectory, directory);
        _inner.SyncDirectory(directory);
    }

    public IDisposable LockFile(string path)
    {
        Check(FileOperation.Lock, path);
        return _inner.LockFile(path);
    }

    internal FaultAction Decide(FileOperation operation, string path) => _injector.OnOperation(operation, path);

    internal void Check(FileOperation operation, string path)
    {
        FaultAction action = _injector.OnOperation(operation, path);
        if (action != FaultAction.None)
        {
            throw new InjectedFaultException(operation, path, action);
        }
    }
}
