using NoKv.Storage.RangeDeletion;

namespace NoKv.Storage.Manifest;

/// <summary>
/// Accumulates the key and sequence bounds of a file being written: its point entries' internal keys and
/// its range tombstones (which extend the bounds to <c>(start, seq)</c> .. <c>(end, max trailer)</c>).
/// </summary>
internal sealed class FileBoundsTracker
{
    private byte[]? _smallest;
    private byte[]? _largest;
    private ulong _smallestSeq = ulong.MaxValue;
    private ulong _largestSeq;
    private byte[] _lastKey = new byte[64];
    private int _lastKeyLength;

    public bool IsEmpty => _smallest is null;

    /// <summary>REQUIRES: keys arrive in increasing order.</summary>
    public void AddKey(ReadOnlySpan<byte> internalKey)
    {
        if (_smallest is null || InternalKey.Compare(internalKey, _smallest) < 0)
        {
            _smallest = internalKey.ToArray();
        }

        // Only the last key matters; keep it in a reused buffer rather than allocating per entry.
        if (internalKey.Length > _lastKey.Length)
        {
            _lastKey = new byte[internalKey.Length * 2];
        }

        internalKey.CopyTo(_lastKey);
        _lastKeyLength = internalKey.Length;
        ulong seq = InternalKey.SequenceOf(internalKey);
        _smallestSeq = Math.Min(_smallestSeq, seq);
        _largestSeq = Math.Max(_largestSeq, seq);
    }

    public void AddTombstone(RangeTombstone t)
    {
        byte[] start = InternalKey.Make(t.Start, InternalKey.Trailer(t.Sequence, ValueKind.RangeDeletion));
        byte[] end = InternalKey.Make(t.End, InternalKey.SeekTrailer);
        if (_smallest is null || InternalKey.Compare(start, _smallest) < 0)
        {
            _smallest = start;
        }

        if (_largest is null || InternalKey.Compare(end, _largest) > 0)
        {
            _largest = end;
        }

        _smallestSeq = Math.Min(_smallestSeq, t.Sequence);
        _largestSeq = Math.Max(_largestSeq, t.Sequence);
    }

    public FileMetaData ToFile(ulong number, long size, long entries, RangeTombstone[] tombstones)
    {
        byte[] largest = _largest ?? [];
        if (_lastKeyLength > 0)
        {
            byte[] last = _lastKey.AsSpan(0, _lastKeyLength).ToArray();
            if (_largest is null || InternalKey.Compare(last, _largest) > 0)
            {
                largest = last;
            }
        }

        return new FileMetaData
        {
            Number = number,
            Size = size,
            Smallest = _smallest ?? throw new InvalidOperationException("Empty file."),
            Largest = largest,
            SmallestSequence = _smallestSeq,
            LargestSequence = _largestSeq,
            EntryCount = entries,
            RangeTombstones = tombstones,
        };
    }
}
