using NoKv.Storage.Encoding;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Builds one block: prefix-compressed entries followed by a restart array. Format (docs/format-sstable.md):
/// <code>
/// block   := entry* restart* num_restarts
/// entry   := shared:varint32 non_shared:varint32 value_length:varint32 key_delta[non_shared] value[value_length]
/// restart := fixed32   offset of an entry stored with shared == 0 (a full key)
/// num_restarts := fixed32  (always &gt;= 1; restart[0] == 0)
/// </code>
/// Every <c>restartInterval</c>-th entry is a restart point: its key is stored whole so a reader can binary
/// search the restart array and then scan at most <c>restartInterval</c> entries.
/// </summary>
/// <remarks>
/// REQUIRES: keys added in strictly increasing order (the table builder checks). Not thread-safe.
/// Reused: <see cref="Reset"/> keeps buffers so steady-state building does not allocate.
/// </remarks>
internal sealed class BlockBuilder
{
    private readonly int _restartInterval;
    private readonly ByteBuffer _buffer;
    private readonly List<int> _restarts = [0];
    private readonly ByteBuffer _lastKey = new(64);
    private int _counter;
    private bool _finished;

    /// <param name="pooled">Rent the block's buffer from the shared array pool (for blocks that grow large, such as a
    /// table's index block); the owner calls <see cref="Release"/> when done with it.</param>
    public BlockBuilder(int restartInterval, bool pooled = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(restartInterval, 1);
        _restartInterval = restartInterval;
        _buffer = pooled ? ByteBuffer.Pooled(4096) : new ByteBuffer(4096);
    }

    public bool IsEmpty => _buffer.Length == 0;

    public int EntryCount { get; private set; }

    /// <summary>Size of the block if finished now (entries + restart array + count).</summary>
    public int CurrentSizeEstimate => _buffer.Length + (_restarts.Count * 4) + 4;

    /// <summary>Key of the last entry added; valid until the next <see cref="Add"/> or <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> LastKey => _lastKey.WrittenSpan;

    public void Reset()
    {
        _buffer.Clear();
        _restarts.Clear();
        _restarts.Add(0);
        _lastKey.Clear();
        _counter = 0;
        EntryCount = 0;
        _finished = false;
    }

    /// <summary>Gives a pooled buffer back (see the constructor); the block is empty afterwards and spans from <see cref="Finish"/> are invalid.</summary>
    public void Release()
    {
        Reset();
        _buffer.Release();
    }

    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (_finished)
        {
            throw new InvalidOperationException("Block already finished; call Reset first.");
        }

        int shared = 0;
        if (_counter < _restartInterval)
        {
            shared = key.CommonPrefixLength(_lastKey.WrittenSpan);
        }
        else
        {
            _restarts.Add(_buffer.Length);
            _counter = 0;
        }

        int nonShared = key.Length - shared;
        _buffer.AppendVarint32((uint)shared);
        _buffer.AppendVarint32((uint)nonShared);
        _buffer.AppendVarint32((uint)value.Length);
        _buffer.Append(key.Slice(shared));
        _buffer.Append(value);

        // Keep only the last key; the shared prefix is already in place.
        _lastKey.Clear();
        _lastKey.Append(key);
        _counter++;
        EntryCount++;
    }

    /// <summary>Appends the restart array and returns the block contents, valid until <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Finish()
    {
        if (!_finished)
        {
            foreach (int restart in _restarts)
            {
                _buffer.AppendFixed32((uint)restart);
            }

            _buffer.AppendFixed32((uint)_restarts.Count);
            _finished = true;
        }

        return _buffer.WrittenSpan;
    }
}
