using NoKv.Raft.Snapshots;

namespace NoKv.Replica.Snapshots;

/// <summary>
/// A follower's staging file for a snapshot arriving in chunks: each chunk is appended as it arrives (on the replica's
/// thread: one write into the page cache per 1 MiB chunk), so the replica holds none of the snapshot in memory.
/// Not synced: a staged snapshot never survives a restart (the staging directory is emptied at start-up), and what is
/// installed from it is synced by the engine's ingest.
/// </summary>
internal sealed class FileSnapshotSink : SnapshotSink
{
    private readonly string _path;
    private FileStream? _file;
    private bool _completed;

    public FileSnapshotSink(string path)
    {
        _path = path;
        // No buffer of its own: chunks are 1 MiB and go straight to the file.
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 0);
    }

    public override long Length => _file?.Length ?? 0;

    public override void Append(ReadOnlySpan<byte> chunk)
    {
        if (_file is null)
        {
            throw new ObjectDisposedException(nameof(FileSnapshotSink));
        }

        _file.Write(chunk);
    }

    public override SnapshotPayload Complete()
    {
        if (_file is null)
        {
            throw new ObjectDisposedException(nameof(FileSnapshotSink));
        }

        _file.Dispose();
        _file = null;
        _completed = true;
        return new FileSnapshotPayload(_path);
    }

    protected override void Dispose(bool disposing)
    {
        _file?.Dispose();
        _file = null;
        if (!_completed)
        {
            _completed = true;
            SnapshotStaging.DeleteQuietly(_path);
        }
    }
}
