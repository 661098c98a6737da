using Microsoft.Win32.SafeHandles;
using NoKv.Raft.Snapshots;

namespace NoKv.Replica.Snapshots;

/// <summary>
/// A snapshot staged in a file of the silo's staging directory (<see cref="SnapshotStaging"/>): a leader's export, or a
/// follower's received chunks. Read a chunk at a time when sent (<see cref="ReadAt"/>) and as a stream when installed;
/// disposing it deletes the file.
/// </summary>
/// <remarks>
/// Thread safety: <see cref="ReadAt"/> uses positional reads on one handle and may run alongside <see cref="OpenRead"/>
/// streams (each has its own handle); <see cref="Dispose(bool)"/> must not race them.
/// </remarks>
internal sealed class FileSnapshotPayload : SnapshotPayload
{
    private readonly SafeFileHandle _handle;
    private int _disposed;

    /// <summary>Takes ownership of the complete file at <paramref name="path"/>.</summary>
    public FileSnapshotPayload(string path)
    {
        Path = path;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Length = RandomAccess.GetLength(_handle);
    }

    public string Path { get; }

    public override long Length { get; }

    public override void ReadAt(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_handle, destination, offset);
            if (n <= 0)
            {
                throw new IOException($"Snapshot staging file '{Path}' ended at {offset}, before its {Length} bytes.");
            }

            destination = destination[n..];
            offset += n;
        }
    }

    /// <summary>A seekable stream of the whole file (installing reads it section by section).</summary>
    public override Stream OpenRead() =>
        new FileStream(Path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 256 << 10,
            Options = FileOptions.SequentialScan,
        });

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _handle.Dispose();
        SnapshotStaging.DeleteQuietly(Path);
    }
}
