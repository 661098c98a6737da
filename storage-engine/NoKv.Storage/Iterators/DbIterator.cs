using NoKv.Storage.Compaction;
using NoKv.Storage.Db;
using NoKv.Storage.ValueLog;

namespace NoKv.Storage.Iterators;

/// <summary>
/// The user-facing iterator: turns the merged stream of internal entries (every version of every key,
/// newest first per key) into the live user keys visible at a snapshot, within [lower, upper).
/// </summary>
/// <remarks>
/// Forward, the merged iterator rests on the entry being returned and Key/Value point into it. Backward,
/// it rests before the returned key's entries (the newest visible version of a key is only known after
/// passing all of them), so the key and value are copied into private buffers. A version is hidden when
/// its sequence is above the snapshot, when a newer visible version exists, when the newest visible
/// version is a deletion, or when a range tombstone visible at the snapshot with a higher sequence covers it.
/// Holds a reference to its super version (memtables and files stay readable) until disposed.
/// With a read-compaction sampler, about once per sample period of bytes read (entries returned, plus one
/// block per table for each seek) the iterator reports its current key to the sampler, which charges the
/// topmost table of its version overlapping that key if another one overlaps it too.
/// A value kept in a value file (a <see cref="ValueKind.ValuePointer"/> entry) is read, checked, when
/// <see cref="Value"/> is first asked for at a position, so a scan over keys only never touches value files.
/// Not thread-safe.
/// </remarks>
internal sealed class DbIterator : StorageIterator
{
    private readonly MergingIterator _iter;
    private readonly SuperVersion _sv;
    private readonly ulong _snapshot;
    private readonly byte[]? _lower;
    private readonly byte[]? _upper;
    private readonly bool _hasTombstones;
    private readonly ReadCompactionTracker? _sampler;
    private readonly long _seekCost;
    private long _bytesUntilSample;
    // Only backward iteration saves entries: allocated on first use.
    private byte[] _savedKey = [];
    private int _savedKeyLength;
    private byte[] _savedValue = [];
    private int _savedValueLength;

    // Backward: whether _savedValue holds an encoded value pointer rather than the value.
    private bool _savedIsPointer;
    private readonly ValueFileCache? _valueFiles;

    // The value read through a pointer at the current position (valid while _resolvedValid).
    private byte[] _resolved = [];
    private int _resolvedLength;
    private bool _resolvedValid;
    private byte[] _seekBuffer;

    // Reused parts (the merging iterator and what it merges), given back to their pool on Dispose; null when this
    // iterator owns its merging iterator and disposes it.
    private readonly IteratorParts? _parts;
    private readonly IteratorPartsPool? _partsPool;
    private bool _valid;
    private bool _forward = true;
    private bool _disposed;

    /// <param name="sampler">Read-compaction sampler, or null to not sample.</param>
    /// <param name="tables">Table children of <paramref name="iter"/> (L0 files and level iterators): a seek costs one block read in each.</param>
    /// <param name="valueFiles">Reads values kept in value files; null only where no table can hold a pointer.</param>
    /// <param name="parts">The parts <paramref name="iter"/> belongs to, returned to <paramref name="partsPool"/> on Dispose (null: <paramref name="iter"/> is disposed instead).</param>
    public DbIterator(MergingIterator iter, SuperVersion sv, ulong snapshot, byte[]? lower, byte[]? upper, ReadCompactionTracker? sampler = null, int tables = 0, ValueFileCache? valueFiles = null, IteratorParts? parts = null, IteratorPartsPool? partsPool = null)
    {
        _parts = parts;
        _partsPool = partsPool;
        _seekBuffer = parts?.SeekBuffer ?? new byte[64];
        _valueFiles = valueFiles;
        _sampler = sampler;
        if (sampler is not null)
        {
            _seekCost = Math.Max(1, tables) * sampler.BlockBytes;
            _bytesUntilSample = NextSamplePeriod(sampler);
        }

        _iter = iter;
        _sv = sv;
        _snapshot = snapshot;
        _lower = lower;
        _upper = upper;
        _hasTombstones = sv.Mem.RangeTombstones.Count > 0 || sv.ImmutablesOrVersionHaveRangeTombstones;
    }

    public override bool Valid => _valid;

    public override ReadOnlySpan<byte> Key
    {
        get
        {
            EnsureValid();
            return _forward ? InternalKey.UserKey(_iter.Key) : _savedKey.AsSpan(0, _savedKeyLength);
        }
    }

    public override ReadOnlySpan<byte> Value
    {
        get
        {
            EnsureValid();
            if (_forward)
            {
                return InternalKey.KindOf(_iter.Key) == ValueKind.ValuePointer ? Resolve(_iter.Value) : _iter.Value;
            }

            return _savedIsPointer ? Resolve(_savedValue.AsSpan(0, _savedValueLength)) : _savedValue.AsSpan(0, _savedValueLength);
        }
    }

    public override void SeekToFirst()
    {
        EnsureOpen();
        _forward = true;
        if (_lower is not null)
        {
            _iter.Seek(SeekKey(_lower, InternalKey.SeekTrailer));
        }
        else
        {
            _iter.SeekToFirst();
        }

        FindNextUserEntry(skipping: false);
    }

    public override void SeekToLast()
    {
        EnsureOpen();
        if (_upper is not null)
        {
            PositionBefore(_upper, InternalKey.SeekTrailer);
        }
        else
        {
            _iter.SeekToLast();
        }

        FindPrevUserEntry();
    }

    public override void Seek(ReadOnlySpan<byte> key)
    {
        EnsureOpen();
        _forward = true;
        if (_lower is not null && key.SequenceCompareTo(_lower) < 0)
        {
            key = _lower;
        }

        _iter.Seek(SeekKey(key, InternalKey.SeekTrailer));
        FindNextUserEntry(skipping: false);
        if (_sampler is not null)
        {
            CountRead(_seekCost);
        }
    }

    public override void SeekForPrev(ReadOnlySpan<byte> key)
    {
        EnsureOpen();
        if (_upper is not null && key.SequenceCompareTo(_upper) >= 0)
        {
            SeekToLast();
            return;
        }

        // (key, trailer 0) sorts after every real version of key: land on the first larger user key, step back.
        PositionBefore(key, 0);
        FindPrevUserEntry();
    }

    public override void Next()
    {
        EnsureValid();
        if (_forward)
        {
            Save(ref _savedKey, ref _savedKeyLength, InternalKey.UserKey(_iter.Key));
            _iter.Next();
            FindNextUserEntry(skipping: true);
            if (_sampler is not null && _valid)
            {
                CountRead(_iter.Key.Length + _iter.Value.Length);
            }
        }
        else
        {
            _forward = true;
            _iter.Seek(SeekKey(_savedKey.AsSpan(0, _savedKeyLength), 0));
            FindNextUserEntry(skipping: false);
        }
    }

    public override void Prev()
    {
        EnsureValid();
        if (_forward)
        {
            Save(ref _savedKey, ref _savedKeyLength, InternalKey.UserKey(_iter.Key));
            PositionBefore(_savedKey.AsSpan(0, _savedKeyLength), InternalKey.SeekTrailer);
        }

        FindPrevUserEntry();
    }

    protected override void Dispose(bool disposing)
    {
        if (!_disposed)
        {
            _disposed = true;
            _valid = false;
            if (_parts is not null)
            {
                // Parked before the super version goes: nothing of it may outlive the reference.
                _parts.SeekBuffer = _seekBuffer;
                _partsPool!.Return(_parts);
            }
            else
            {
                _iter.Dispose();
            }

            _sv.Unref();
        }
    }

    /// <summary>Positions the merged iterator on the last entry before (userKey, trailer).</summary>
    private void PositionBefore(ReadOnlySpan<byte> userKey, ulong trailer)
    {
        _iter.Seek(SeekKey(userKey, trailer));
        if (_iter.Valid)
        {
            _iter.Prev();
        }
        else
        {
            _iter.SeekToLast();
        }
    }

    private ReadOnlySpan<byte> Resolve(ReadOnlySpan<byte> pointer)
    {
        if (!_resolvedValid)
        {
            ValueFileCache files = _valueFiles ?? throw new InvalidOperationException("This iterator cannot read value files.");
            _resolvedLength = files.Read(pointer, "<table>", ref _resolved).Length;
            _resolvedValid = true;
        }

        return _resolved.AsSpan(0, _resolvedLength);
    }

    private void FindNextUserEntry(bool skipping)
    {
        _forward = true;
        _resolvedValid = false;
        while (_iter.Valid)
        {
            ReadOnlySpan<byte> ikey = _iter.Key;
            ReadOnlySpan<byte> ukey = InternalKey.UserKey(ikey);
            if (_upper is not null && ukey.SequenceCompareTo(_upper) >= 0)
            {
                break;
            }

            ulong trailer = InternalKey.TrailerOf(ikey);
            ulong seq = trailer >> 8;
            if (seq <= _snapshot)
            {
                if (skipping && ukey.SequenceEqual(_savedKey.AsSpan(0, _savedKeyLength)))
                {
                    _iter.Next();
                    continue;
                }

                if (IsValue(trailer) && !Covered(ukey, seq))
                {
                    _valid = true;
                    return;
                }

                // The newest visible version is deleted: skip the older versions of this key.
                Save(ref _savedKey, ref _savedKeyLength, ukey);
                skipping = true;
            }

            _iter.Next();
        }

        _valid = false;
    }

    private void FindPrevUserEntry()
    {
        _forward = false;
        _resolvedValid = false;
        bool haveValue = false;
        while (_iter.Valid)
        {
            ReadOnlySpan<byte> ikey = _iter.Key;
            ReadOnlySpan<byte> ukey = InternalKey.UserKey(ikey);
            if (_lower is not null && ukey.SequenceCompareTo(_lower) < 0)
            {
                break;
            }

            ulong trailer = InternalKey.TrailerOf(ikey);
            ulong seq = trailer >> 8;
            if (seq <= _snapshot)
            {
                if (haveValue && ukey.SequenceCompareTo(_savedKey.AsSpan(0, _savedKeyLength)) < 0)
                {
                    break;
                }

                if (IsValue(trailer) && !Covered(ukey, seq))
                {
                    Save(ref _savedKey, ref _savedKeyLength, ukey);
                    Save(ref _savedValue, ref _savedValueLength, _iter.Value);
                    _savedIsPointer = (ValueKind)(byte)trailer == ValueKind.ValuePointer;
                    haveValue = true;
                }
                else
                {
                    haveValue = false;
                }
            }

            _iter.Prev();
        }

        _valid = haveValue;
    }

    /// <summary>Counts <paramref name="bytes"/> read; at the end of a sample period samples the current key (forward only).</summary>
    private void CountRead(long bytes)
    {
        _bytesUntilSample -= bytes;
        if (_bytesUntilSample > 0)
        {
            return;
        }

        _bytesUntilSample = NextSamplePeriod(_sampler!);
        if (_valid && _forward)
        {
            _sampler!.SampleIteratorKey(_sv.Version, InternalKey.UserKey(_iter.Key));
        }
    }

    /// <summary>Uniform in [1, 2 * period): the mean is the period, and no fixed stride can alias with a workload's.</summary>
    private static long NextSamplePeriod(ReadCompactionTracker sampler) =>
        1 + Random.Shared.NextInt64(2 * sampler.IteratorSamplePeriodBytes - 1);

    private static bool IsValue(ulong trailer) => (ValueKind)(byte)trailer is ValueKind.Value or ValueKind.ValuePointer;

    private bool Covered(ReadOnlySpan<byte> ukey, ulong seq) =>
        _hasTombstones && _sv.MaxCoveringTombstone(ukey, _snapshot) > seq;

    private ReadOnlySpan<byte> SeekKey(ReadOnlySpan<byte> userKey, ulong trailer)
    {
        int len = userKey.Length + InternalKey.TrailerSize;
        if (_seekBuffer.Length < len)
        {
            _seekBuffer = new byte[Math.Max(len, _seekBuffer.Length * 2)];
        }

        InternalKey.Write(_seekBuffer, userKey, trailer);
        return _seekBuffer.AsSpan(0, len);
    }

    private static void Save(ref byte[] buffer, ref int length, ReadOnlySpan<byte> data)
    {
        if (buffer.Length < data.Length)
        {
            buffer = new byte[Math.Max(data.Length, buffer.Length * 2)];
        }

        data.CopyTo(buffer);
        length = data.Length;
    }

    private void EnsureOpen() => ObjectDisposedException.ThrowIf(_disposed, this);

    private void EnsureValid()
    {
        EnsureOpen();
        if (!_valid)
        {
            throw new InvalidOperationException("The iterator is not positioned at an entry.");
        }
    }
}
