using NoKv.Storage.Db;
using NoKv.Storage.Manifest;
using NoKv.Storage.Memtable;
using NoKv.Storage.RangeDeletion;
using NoKv.Storage.Sstable;
using NoKv.Storage.Transfer;
using NoKv.Storage.Vfs;

namespace NoKv.Storage;

/// <summary>
/// Range export and ingest (Raft snapshots, shard moves). Format: docs/format-export.md.
/// </summary>
/// <remarks>
/// Ingest writes the stream's entries into new tables, all with one sequence number s+1, and records them
/// in level 0 in one manifest edit together with a range tombstone [start, end) at sequence s. The tombstone
/// hides everything older in the range, the tables supply the new contents, and the edit is atomic: a crash
/// or a bad stream before it leaves the old contents untouched. The memtable is flushed first (so no older
/// version of a key in the range sits above the new tables), and no write commits while an ingest runs.
/// </remarks>
public sealed partial class Database
{
    /// <summary>
    /// Writes every live key/value in [start, end) (an empty <paramref name="end"/> means unbounded) as seen
    /// at <paramref name="snapshot"/> (or now) to <paramref name="destination"/> in a self-checking format.
    /// </summary>
    public void ExportRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, Stream destination, Snapshot? snapshot = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ValidateRange(start, end);
        using StorageIterator it = NewIterator(new ReadOptions
        {
            Snapshot = snapshot,
            FillCache = false,
            LowerBound = start.ToArray(),
            UpperBound = end.IsEmpty ? null : end.ToArray(),
        });
        var writer = new RangeStreamWriter(destination, start, end, end.IsEmpty);
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            writer.Add(it.Key, it.Value);
        }

        writer.Finish();
    }

    /// <summary>
    /// Atomically replaces the contents of [start, end) (an empty <paramref name="end"/> means unbounded)
    /// with the entries of an export stream, and returns how many there were. The whole stream is verified
    /// before anything becomes visible; a bad stream throws <see cref="CorruptionException"/> and changes nothing.
    /// </summary>
    /// <exception cref="CorruptionException">The stream is damaged, truncated, or holds keys outside the range.</exception>
    public long IngestRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ValidateRange(start, end);
        ThrowIfDisposed();
        byte[] lo = start.ToArray();
        byte[]? hi = end.IsEmpty ? null : end.ToArray();
        long count = 0;
        RunExclusive(() => count = IngestExclusive(lo, hi, source));
        return count;
    }

    private static void ValidateRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
    {
        if (!end.IsEmpty && start.SequenceCompareTo(end) > 0)
        {
            throw new ArgumentException("start must not sort after end.", nameof(start));
        }
    }

    /// <summary>REQUIRES: write leadership (no commit runs concurrently).</summary>
    private long IngestExclusive(byte[] lo, byte[]? hi, Stream source)
    {
        ThrowIfWritesStopped();
        if (!_mem.IsEmpty)
        {
            SwitchMemtable();
        }

        long target;
        lock (_mutex)
        {
            target = Volatile.Read(ref _flushesCompleted) + _immutables.Length;
        }

        WaitForFlushes(target);

        ulong tombstoneSeq = LastSequence + 1;
        ulong dataSeq = tombstoneSeq + 1;
        var reader = new RangeStreamReader(source);
        var files = new List<FileMetaData>();
        TableFileWriter? current = null;
        try
        {
            byte[] ikey = new byte[64];
            while (reader.TryRead(out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value))
            {
                if (key.SequenceCompareTo(lo) < 0 || (hi is not null && key.SequenceCompareTo(hi) >= 0))
                {
                    throw new CorruptionException("<range stream>", 0, "Range stream: a key lies outside the range being ingested.");
                }

                int len = key.Length + InternalKey.TrailerSize;
                if (ikey.Length < len)
                {
                    ikey = new byte[len * 2];
                }

                InternalKey.Write(ikey, key, InternalKey.Trailer(dataSeq, ValueKind.Value));
                current ??= new TableFileWriter(_fs, Path, _versions.NewFileNumber(), _writeOptionsByLevel[0], _options.TableBytesPerSync);
                current.Add(ikey.AsSpan(0, len), value);
                if (current.EstimatedSize >= _options.TargetFileSizeBytes)
                {
                    files.Add(current.Finish([]));
                    current = null;
                }
            }

            if (current is not null)
            {
                files.Add(current.Finish([]));
                current = null;
            }
        }
        catch
        {
            current?.Abandon();
            foreach (FileMetaData f in files)
            {
                TryDeleteFile(FileNames.Table(Path, f.Number));
            }

            throw;
        }

        // The range tombstone rides in a table-less file entry, so it is recorded in the same edit.
        RangeTombstone tombstone = new(lo, hi ?? UnboundedEnd, tombstoneSeq);
        var bounds = new FileBoundsTracker();
        bounds.AddTombstone(tombstone);
        var edit = new VersionEdit();
        edit.AddFile(0, bounds.ToFile(_versions.NewFileNumber(), 0, 0, [tombstone]));
        foreach (FileMetaData f in files)
        {
            edit.AddFile(0, f);
        }

        _fs.SyncDirectory(Path);
        _versions.LogAndApply(edit, dataSeq);
        lock (_mutex)
        {
            InstallSuperVersion();
            Volatile.Write(ref _lastSequence, dataSeq);
            _compactionRequested = true;
            Monitor.PulseAll(_mutex);
        }

        return reader.Count;
    }

    /// <summary>
    /// The exclusive end recorded for an ingest into an unbounded range: 4 KiB of 0xFF bytes. Range tombstones
    /// have no "infinity", and keys that sort above this (4 KiB or more of leading 0xFF) are not used by any
    /// NoKV layer.
    /// </summary>
    internal static readonly byte[] UnboundedEnd = CreateUnboundedEnd();

    private static byte[] CreateUnboundedEnd()
    {
        byte[] b = new byte[4096];
        Array.Fill(b, (byte)0xFF);
        return b;
    }
}
