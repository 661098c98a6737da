using Microsoft.Win32.SafeHandles;

namespace NoKv.Storage.Vfs;

/// <summary>Positional reads (pread) on a shared handle. Thread-safe.</summary>
internal sealed class PhysicalRandomAccessFile : IRandomAccessFile
{
    private readonly SafeFileHandle _handle;

    public PhysicalRandomAccessFile(string path)
    {
        Path = path;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.RandomAccess);
        Length = RandomAccess.GetLength(_handle);
    }

    public string Path { get; }

    public long Length { get; }

    public int Read(long offset, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = RandomAccess.Read(_handle, destination[total..], offset + total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    /// <summary>Maps the file (null for an empty file, which cannot be mapped and holds nothing to read).</summary>
    public FileMapping? TryMap() => Length > 0 ? PhysicalFileMapping.Create(_handle, Length) : null;

    public void Dispose() => _handle.Dispose();
}
