using System.Globalization;
using NoKv.Raft.Messages;

namespace NoKv.Grains.Raft;

/// <summary>
/// What one outbox queued since its last flush, by kind, so that an oversized envelope can be explained in the log
/// (which shard, appends or snapshot chunks, how many entries over which indexes). Constant work per message (it runs
/// on every send): entries are counted, not visited. Guarded by the outbox's lock.
/// </summary>
internal sealed class EnvelopeTally
{
    private long _messages;
    private long _appends;
    private long _entries;
    private long _snapshotChunks;
    private long _snapshotBytes;
    private long _largestGroupBytes;
    private long _largestGroupShard;
    private ulong _lowestIndex = ulong.MaxValue;
    private ulong _highestIndex;

    public void Add(long shard, ReadOnlySpan<Message> messages, int encodedBytes)
    {
        _messages += messages.Length;
        foreach (var message in messages)
        {
            var entries = message.Entries.Span;
            if (message.Type == MessageType.Append && !entries.IsEmpty)
            {
                _appends++;
                _entries += entries.Length;
                _lowestIndex = Math.Min(_lowestIndex, entries[0].Index);
                _highestIndex = Math.Max(_highestIndex, entries[^1].Index);
            }
            else if (message.Type == MessageType.Append)
            {
                _appends++;
            }
            else if (message.Snapshot is { } snapshot)
            {
                _snapshotChunks++;
                _snapshotBytes += snapshot.Data.Length;
            }
        }

        if (encodedBytes > _largestGroupBytes)
        {
            _largestGroupBytes = encodedBytes;
            _largestGroupShard = shard;
        }
    }

    public void Clear()
    {
        _messages = _appends = _entries = _snapshotChunks = _snapshotBytes = _largestGroupBytes = _largestGroupShard = 0;
        _lowestIndex = ulong.MaxValue;
        _highestIndex = 0;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{_messages} messages: {_appends} appends carrying {_entries} entries of indexes {(_entries == 0 ? "-" : $"{_lowestIndex}-{_highestIndex}")}, {_snapshotChunks} snapshot chunks ({_snapshotBytes} bytes); largest group shard {_largestGroupShard} ({_largestGroupBytes} bytes)");
}
