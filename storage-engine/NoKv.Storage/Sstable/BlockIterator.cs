using System.Runtime.CompilerServices;
using NoKv.Storage.Iterators;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Iterates one <see cref="Block"/> forward and backward. Seek binary-searches the restart array (restart
/// keys are compared in place, no copy) and then scans at most one restart interval. Prev re-scans from the
/// previous restart point, so it costs up to one restart interval of decoding.
/// </summary>
/// <remarks>
/// Not thread-safe. Reusable across blocks via <see cref="Reset"/>, so a reader can keep one per thread and
/// look up keys without allocating. <see cref="Key"/> lives in an internal buffer (prefix compression means
/// most keys are not stored whole) and is valid until the next move; <see cref="Value"/> points into the
/// block itself: for an array block it stays valid as long as the caller holds the span, for a view of a
/// mapped table only while that table stays open (see <see cref="Block"/>). The iterator copies the block's
/// location at <see cref="Reset"/>; the owner of a view resets the iterator whenever it re-points the view.
/// Malformed entries throw <see cref="CorruptionException"/> naming the block's file and offset.
/// </remarks>
internal sealed unsafe class BlockIterator : IInternalIterator
{
    private static readonly Block EmptyBlock = Block.Parse(new byte[8] { 0, 0, 0, 0, 1, 0, 0, 0 }, 8, string.Empty, 0);

    private IKeyComparer _comparer;

    // Which built-in comparer _comparer is, so the hot compare is a direct (inlinable) call instead of an
    // interface dispatch: 0 = other, 1 = bytewise, 2 = internal key.
    private int _comparerKind;
    private Block _block;

    // The block's contents: a GC array (_array non-null) or mapped memory (_pointer), _size bytes.
    private byte[]? _array;
    private byte* _pointer;
    private int _size;
    private int _restartsOffset;
    private int _numRestarts;

    // Offset of the current entry; == _restartsOffset when not valid.
    private int _current;

    // Offset just past the current entry, where the next one starts.
    private int _next;

    // Index of the restart block containing _current.
    private int _restartIndex;

    // Offset of restart point _restartIndex + 1 (int.MaxValue past the last), so advancing does not
    // re-read the restart array for every entry.
    private int _nextRestartOffset;

    private byte[] _key = new byte[64];
    private int _keyLength;
    private int _valueOffset;
    private int _valueLength;

    public BlockIterator()
    {
        _comparer = BytewiseComparer.Instance;
        _block = EmptyBlock;
        _array = EmptyBlock.Data;
        _size = EmptyBlock.Size;
        _restartsOffset = 0;
        _numRestarts = 1;
    }

    public BlockIterator(Block block, IKeyComparer comparer)
        : this()
    {
        Reset(block, comparer);
    }

    public Block Block => _block;

    public bool Valid => _current < _restartsOffset;

    public ReadOnlySpan<byte> Key => _key.AsSpan(0, _keyLength);

    /// <summary>Points into the block: for a view of a mapped table, valid only while the table stays open.</summary>
    public ReadOnlySpan<byte> Value => Bytes.Slice(_valueOffset, _valueLength);

    private ReadOnlySpan<byte> Bytes => _array is not null ? new ReadOnlySpan<byte>(_array, 0, _size) : new ReadOnlySpan<byte>(_pointer, _size);

    /// <summary>Points the iterator at another block; it is left invalid until positioned.</summary>
    public void Reset(Block block, IKeyComparer comparer)
    {
        _block = block;
        _comparer = comparer;
        _comparerKind = comparer switch
        {
            BytewiseComparer => 1,
            InternalKeyComparer => 2,
            _ => 0,
        };
        _array = block.Data;
        _pointer = block.Pointer;
        _size = block.Size;
        _restartsOffset = block.RestartsOffset;
        _numRestarts = block.NumRestarts;
        Invalidate();
    }

    public void SeekToFirst()
    {
        try
        {
            SeekToRestartPoint(0);
            ParseNextEntry();
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            Invalidate();
            throw;
        }
    }

    public void SeekToLast()
    {
        try
        {
            SeekToRestartPoint(_numRestarts - 1);
            while (ParseNextEntry() && _next < _restartsOffset)
            {
            }
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            Invalidate();
            throw;
        }
    }

    public void Seek(ReadOnlySpan<byte> target)
    {
        try
        {
            // Find the last restart point whose key is < target; the answer lies in its interval or is the
            // first entry of the next one, which the scan below reaches.
            int left = 0;
            int right = _numRestarts - 1;
            while (left < right)
            {
                int mid = (left + right + 1) >> 1;
                if (CompareKeys(RestartKey(mid), target) < 0)
                {
                    left = mid;
                }
                else
                {
                    right = mid - 1;
                }
            }

            SeekToRestartPoint(left);
            while (ParseNextEntry())
            {
                if (CompareKeys(Key, target) >= 0)
                {
                    return;
                }
            }
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            Invalidate();
            throw;
        }
    }

    /// <summary>
    /// Positions at the entry of restart point <paramref name="index"/>; invalid when index == NumRestarts.
    /// With a restart interval of 1 (index blocks) restart point i is entry i.
    /// </summary>
    public void SeekToRestart(int index)
    {
        try
        {
            if ((uint)index >= (uint)_numRestarts)
            {
                Invalidate();
                return;
            }

            SeekToRestartPoint(index);
            ParseNextEntry();
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            Invalidate();
            throw;
        }
    }

    public void Next()
    {
        try
        {
            if (!Valid)
            {
                throw new InvalidOperationException("Iterator is not positioned at an entry.");
            }

            ParseNextEntry();
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            Invalidate();
            throw;
        }
    }

    public void Prev()
    {
        try
        {
            if (!Valid)
            {
                throw new InvalidOperationException("Iterator is not positioned at an entry.");
            }

            int original = _current;
            while (_block.RestartPoint(_restartIndex) >= original)
            {
                if (_restartIndex == 0)
                {
                    Invalidate();
                    return;
                }

                _restartIndex--;
            }

            SeekToRestartPoint(_restartIndex);
            while (ParseNextEntry() && _next < original)
            {
            }
        }
        catch (CorruptionException)
        {
            // Never leave a stale position behind a failed move.
            Invalidate();
            throw;
        }
    }

    public void Dispose()
    {
    }

    private void Invalidate()
    {
        _current = _restartsOffset;
        _next = _restartsOffset;
        _restartIndex = _numRestarts;
        _nextRestartOffset = int.MaxValue;
        _keyLength = 0;
        _valueOffset = 0;
        _valueLength = 0;
    }

    private void SeekToRestartPoint(int index)
    {
        _keyLength = 0;
        _restartIndex = index;
        _next = _block.RestartPoint(index);
        _nextRestartOffset = index + 1 < _numRestarts ? _block.RestartPoint(index + 1) : int.MaxValue;
    }

    private ReadOnlySpan<byte> RestartKey(int index) => _block.RestartKey(index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CompareKeys(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => _comparerKind switch
    {
        1 => a.SequenceCompareTo(b),
        2 => InternalKeyComparer.CompareKeys(a, b),
        _ => _comparer.Compare(a, b),
    };

    /// <summary>Decodes the entry at _next into the current position; false (and invalid) at the end.</summary>
    private bool ParseNextEntry()
    {
        _current = _next;
        if (_current >= _restartsOffset)
        {
            Invalidate();
            return false;
        }

        int p = DecodeHeader(_current, out uint shared, out uint nonShared, out uint valueLength);
        if (shared > (uint)_keyLength)
        {
            throw _block.Corrupt($"entry at {_current} shares {shared} bytes of a {_keyLength}-byte key");
        }

        int keyLength = (int)shared + (int)nonShared;
        if (_key.Length < keyLength)
        {
            GrowKey(keyLength);
        }

        Bytes.Slice(p, (int)nonShared).CopyTo(_key.AsSpan((int)shared));
        _keyLength = keyLength;
        _valueOffset = p + (int)nonShared;
        _valueLength = (int)valueLength;
        _next = _valueOffset + _valueLength;

        while (_current >= _nextRestartOffset)
        {
            _restartIndex++;
            _nextRestartOffset = _restartIndex + 1 < _numRestarts ? _block.RestartPoint(_restartIndex + 1) : int.MaxValue;
        }

        return true;
    }

    /// <summary>
    /// Decodes the three varint lengths of the entry at <paramref name="offset"/> and checks that the key
    /// delta and value fit before the restart array; returns the offset of the key delta.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int DecodeHeader(int offset, out uint shared, out uint nonShared, out uint valueLength)
    {
        int p;
        ReadOnlySpan<byte> data = Bytes;
        if (offset + 3 <= _restartsOffset && (data[offset] | data[offset + 1] | data[offset + 2]) < 0x80)
        {
            // Common case: all three lengths below 128 take one byte each.
            shared = data[offset];
            nonShared = data[offset + 1];
            valueLength = data[offset + 2];
            p = offset + 3;
        }
        else
        {
            p = DecodeHeaderSlow(offset, out shared, out nonShared, out valueLength);
        }

        if ((ulong)nonShared + valueLength > (ulong)(_restartsOffset - p))
        {
            throw _block.Corrupt($"entry at {offset} runs past the end of the entries");
        }

        return p;
    }

    private int DecodeHeaderSlow(int offset, out uint shared, out uint nonShared, out uint valueLength)
    {
        ReadOnlySpan<byte> entries = Bytes.Slice(0, _restartsOffset);
        int n1 = Encoding.Varint.TryRead32(entries.Slice(offset), out shared);
        int n2 = Encoding.Varint.TryRead32(entries.Slice(offset + n1), out nonShared);
        int n3 = Encoding.Varint.TryRead32(entries.Slice(offset + n1 + n2), out valueLength);
        if (n1 == 0 || n2 == 0 || n3 == 0)
        {
            throw _block.Corrupt($"entry header at {offset} is malformed");
        }

        return offset + n1 + n2 + n3;
    }

    private void GrowKey(int needed)
    {
        var bigger = new byte[Math.Max(needed, _key.Length * 2)];
        _key.AsSpan(0, _keyLength).CopyTo(bigger);
        _key = bigger;
    }
}
