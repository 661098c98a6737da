using NoKv.Storage.Vfs;

namespace NoKv.Storage.Wal;

/// <summary>
/// Replays a database's write-ahead logs at open and decides what damage in them means. Not thread-safe.
/// </summary>
/// <remarks>
/// <para><b>What the writer guarantees</b> (Database.Write.cs, <see cref="LogWriter"/>):</para>
/// <list type="number">
/// <item>A write with Sync is acknowledged after an fdatasync of its log has returned.</item>
/// <item>Nothing is appended to a log after the memtable switch that closed it. It is fsynced to its end soon after
/// (by the flush thread), and in any case before a synced write of a later log is acknowledged.</item>
/// <item>A durability mark (L, X) is appended only after an fdatasync covering [0, X) of log L has returned
/// (<see cref="DurableMark"/>): one before the first record after each sync, one in the new log once its
/// predecessor is synced (the predecessor's full length), one synced at a clean close. A surviving mark is
/// therefore true.</item>
/// </list>
/// <para><b>The power-loss model</b>: bytes covered by a completed fdatasync survive; of the bytes after it, any
/// subset of pages survives, each page as of some earlier version; the rest read as zeros (or as stale garbage
/// where the file had no durable content).</para>
/// <para><b>The rule.</b> Replay every log in number order, record by record, up to the first record that cannot
/// be read whole (the first damage), and replay nothing after it. Then:</para>
/// <list type="bullet">
/// <item>If any intact mark (L, X), anywhere, claims more of log L than its intact prefix holds (or log L is
/// missing): corruption at the end of that prefix. This catches damage before a later mark, and synced records
/// zeroed or truncated away even when the log then looks like it ends cleanly.</item>
/// <item>Otherwise, in <see cref="WalRecoveryMode.PointInTime"/>, the damage and everything after it are dropped
/// and reported (<see cref="WalRecoveryReport"/>); in <see cref="WalRecoveryMode.AbsoluteConsistency"/> any
/// damage is corruption.</item>
/// </list>
/// <para><b>Why it is safe under the model.</b> No false corruption: marks are true proofs, and under the model
/// nothing they prove durable is damaged. Later logs prove nothing by themselves (an old log's tail may be lost
/// while a later log's pages survive); marks in them are read even though their records are dropped. Nothing
/// acknowledged is lost: a synced write's record lies before its sync's end and every earlier log was synced
/// before it was acknowledged (2), so all of it is intact and precedes the first damage. The recovered writes are a prefix of the issued ones: replay stops at the first damage across all
/// logs, so no record is kept whose predecessor was lost.</para>
/// <para><b>What it cannot see.</b> Damage beyond the model (media errors) is proven synced, and reported, when a
/// later mark or log survives. It cannot be proven after the last surviving mark of the last log: there it looks
/// exactly like a power loss during that log's last sync, which may drop those records, so point-in-time mode
/// drops it (and reports the bytes). An earlier log is covered once its successor's mark of it is durable (with
/// the successor's next sync, or at a clean close), and a clean close seals the log with a synced mark, which
/// closes this window.</para>
/// </remarks>
internal sealed class WalReplay : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly string _dir;
    private readonly IReadOnlyList<ulong> _logs;
    private readonly ulong _minLogNumber;
    private readonly WalRecoveryMode _mode;
    private readonly Dictionary<ulong, long> _intactEnd = [];
    private readonly List<(DurableMark Mark, string Path, long Offset)> _marks = [];
    private LogReader? _reader;
    private LogReader? _damaged;
    private int _index = -1;
    private int _damagedIndex = -1;
    private bool _stopped;
    private long _batches;

    /// <param name="logs">Numbers of the logs to replay, ascending (every log file at or above <paramref name="minLogNumber"/>).</param>
    /// <param name="minLogNumber">The manifest's log number: older logs were flushed to tables and may be gone.</param>
    public WalReplay(IFileSystem fs, string dir, IReadOnlyList<ulong> logs, ulong minLogNumber, WalRecoveryMode mode)
    {
        _fs = fs;
        _dir = dir;
        _logs = logs;
        _minLogNumber = minLogNumber;
        _mode = mode;
    }

    /// <summary>Path of the log the last batch came from.</summary>
    public string CurrentPath => _reader?.Path ?? string.Empty;

    /// <summary>Offset of the last batch's record in <see cref="CurrentPath"/>.</summary>
    public long RecordOffset => _reader?.LastRecordOffset ?? 0;

    /// <summary>
    /// The next write batch of the replayable prefix; the span stays valid until the next call. False once the
    /// prefix ends (then call <see cref="Finish"/>, which decides whether the open may proceed).
    /// </summary>
    public bool TryReadBatch(out ReadOnlySpan<byte> batch)
    {
        batch = default;
        while (!_stopped)
        {
            if (_reader is null)
            {
                if (++_index >= _logs.Count)
                {
                    _stopped = true;
                    break;
                }

                _reader = Open(_logs[_index]);
            }

            while (_reader.TryReadRecord(out ReadOnlySpan<byte> record, out bool meta))
            {
                if (meta)
                {
                    NoteMark(record, _reader.Path, _reader.LastRecordOffset);
                    continue;
                }

                _batches++;
                batch = record;
                return true;
            }

            _intactEnd[_logs[_index]] = _reader.IntactEnd;
            NoteTailMarks(_reader);
            if (_reader.Damage is not null)
            {
                _damaged = _reader;
                _damagedIndex = _index;
                _reader = null;
                _stopped = true;
                break;
            }

            _reader.Dispose();
            _reader = null;
        }

        return false;
    }

    /// <summary>
    /// REQUIRES: <see cref="TryReadBatch"/> returned false. Checks the replayed prefix against every durability
    /// proof and returns what was dropped.
    /// </summary>
    /// <exception cref="CorruptionException">Damage in data proven durable, or any damage in strict mode.</exception>
    public WalRecoveryReport Finish()
    {
        long dropped = 0;
        int laterLogs = 0;
        if (_damaged is { } damaged)
        {
            LogDamage damage = damaged.Damage!;
            dropped = Math.Max(0, damaged.Tail.DataEnd - damage.Offset);
            for (int i = _damagedIndex + 1; i < _logs.Count; i++)
            {
                // A later log is dropped whole, but its marks still count: the mark of the damaged log's full
                // length that the writer appends once that log is synced proves the damage is not a power loss.
                using LogReader later = Open(_logs[i]);
                while (later.TryReadRecord(out ReadOnlySpan<byte> record, out bool meta))
                {
                    if (meta)
                    {
                        NoteMark(record, later.Path, later.LastRecordOffset);
                    }
                }

                NoteTailMarks(later);
                dropped += Math.Max(later.IntactEnd, later.Tail.DataEnd);
                laterLogs++;
            }
        }

        foreach ((DurableMark mark, string path, long offset) in _marks)
        {
            CheckMark(mark, path, offset);
        }

        if (_damaged is { } d)
        {
            if (_mode == WalRecoveryMode.AbsoluteConsistency)
            {
                throw new CorruptionException(d.Path, d.Damage!.Offset,
                    $"Log corruption: {d.Damage.Reason}. WalRecoveryMode.AbsoluteConsistency reports any damage; reopen with PointInTime to drop the {dropped} byte(s) from here on.");
            }

            return new WalRecoveryReport
            {
                LogsRead = _logs.Count,
                BatchesReplayed = _batches,
                DroppedBytes = dropped,
                DamagedLog = d.Path,
                DamageOffset = d.Damage!.Offset,
                DamageReason = d.Damage.Reason,
                IntactDataAfterDamage = d.Tail.FirstIntactChunk >= 0,
                LaterLogsDropped = laterLogs,
            };
        }

        return new WalRecoveryReport { LogsRead = _logs.Count, BatchesReplayed = _batches };
    }

    public void Dispose()
    {
        _reader?.Dispose();
        _damaged?.Dispose();
    }

    private LogReader Open(ulong number)
    {
        string path = FileNames.Log(_dir, number);
        return new LogReader(_fs.OpenSequential(path), path);
    }

    private void NoteMark(ReadOnlySpan<byte> meta, string path, long offset)
    {
        // Meta records of kinds this version does not know are skipped: they carry no data.
        if (DurableMark.TryDecode(meta, out DurableMark mark))
        {
            _marks.Add((mark, path, offset));
        }
    }

    private void NoteTailMarks(LogReader reader)
    {
        foreach ((DurableMark mark, long offset) in reader.Tail.Marks)
        {
            _marks.Add((mark, reader.Path, offset));
        }
    }

    private void CheckMark(DurableMark mark, string path, long offset)
    {
        if (mark.LogNumber < _minLogNumber)
        {
            return; // flushed to tables; the log may be gone
        }

        string claimed = FileNames.Log(_dir, mark.LogNumber);
        if (!_intactEnd.TryGetValue(mark.LogNumber, out long end))
        {
            if (_damagedIndex >= 0 && mark.LogNumber > _logs[_damagedIndex])
            {
                return; // a mark about a log after the damage lies in a later log, which Finish already refused
            }

            throw new CorruptionException(claimed, 0,
                $"Log {mark.LogNumber} is missing, but the durability mark in '{path}' at offset {offset} says it was synced through offset {mark.Offset}.");
        }

        if (mark.Offset > end)
        {
            long at = _damaged is { } d && d.Path == claimed ? d.Damage!.Offset : end;
            string why = _damaged is { } dd && dd.Path == claimed ? dd.Damage!.Reason : "the log ends cleanly there";
            throw new CorruptionException(claimed, at,
                $"Log corruption: {why}. Its intact records end at offset {end}, but the durability mark in '{path}' at offset {offset} says it was synced through offset {mark.Offset}.");
        }
    }
}
