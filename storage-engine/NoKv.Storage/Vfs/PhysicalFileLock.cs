using System.Collections.Concurrent;

namespace NoKv.Storage.Vfs;

/// <summary>Holds an exclusively opened lock file until disposed.</summary>
internal sealed class PhysicalFileLock : IDisposable
{
    private readonly string _path;
    private readonly FileStream _stream;
    private readonly ConcurrentDictionary<string, byte> _held;
    private int _disposed;

    public PhysicalFileLock(string path, FileStream stream, ConcurrentDictionary<string, byte> held)
    {
        _path = path;
        _stream = stream;
        _held = held;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stream.Dispose();
            _held.TryRemove(_path, out _);
        }
    }
}
