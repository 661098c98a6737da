using System.Diagnostics;
using NoKv.Storage.Compaction;
using NoKv.Storage.Db;
using NoKv.Storage.Iterators;
using NoKv.Storage.Manifest;
using NoKv.Storage.RangeDeletion;
using NoKv.Storage.Sstable;
using NoKv.Storage.Vfs;

namespace NoKv.Storage;

/// <summary>
/// Leveled compaction on the compaction thread, and <see cref="CompactRange"/>. One compaction runs at a
/// time (<c>_compactionGate</c>), so the files below a compaction's output level cannot change under it.
/// </summary>
public sealed partial class Database
{
    private readonly SemaphoreSlim _compactionGate = new(1, 1);
    private CompactionPicker? _picker;

    private CompactionPicker Picker => _picker ??= new CompactionPicker(_options);

    /// <summary>
    /// Compacts every file overlapping [start, end] (empty spans = unbounded) down the levels, after
    /// flushing the memtable, so that deleted and overwritten data in the range is reclaimed.
    /// </summary>
    public void CompactRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
    {
        ThrowIfDisposed();
        byte[]? begin = start.IsEmpty ? null : start.ToArray();
        byte[]? limit = end.IsEmpty ? null : end.ToArray();
        if (begin is not null && limit is not null && begin.AsSpan().SequenceCompareTo(limit) > 0)
        {
            throw new ArgumentException("CompactRange: start must not sort after end.", nameof(start));
        }

        Flush();
        for (int level = 0; level < _options.NumLevels; level++)
        {
            _compactionGate.Wait();
            try
            {
                ThrowIfBackgroundError();
                CompactionPlan? plan = CompactionPicker.ForRange(_versions.Current, level, begin, limit);
                if (plan is not null)
                {
                    RunCompaction(plan, allowTrivialMove: false);
                }
            }
            finally
            {
                _compactionGate.Release();
            }

            // Callers expect the replaced tables gone when this returns, unless a reader still holds them.
            _purger.PurgeNow();
        }
    }

    private void ThrowIfBackgroundError()
    {
        if (Volatile.Read(ref _backgroundError) is { } bg)
        {
            throw new IOException("Background work failed: " + bg.Message, bg);
        }
    }

    private void MaybeScheduleCompaction()
    {
        lock (_mutex)
        {
            _compactionRequested = true;
            Monitor.PulseAll(_mutex);
        }
    }

    private void CompactionLoop()
    {
        BackgroundThreadPriority.LowerCurrentThread(_options.BackgroundThreadNice);
        while (true)
        {
            lock (_mutex)
            {
                while (!_closing && !_compactionRequested)
                {
                    Monitor.Wait(_mutex);
                }

                if (_closing || _backgroundError is not null)
                {
                    return;
                }

                _compactionRequested = false;
            }

            try
            {
                while (!Volatile.Read(ref _closing))
                {
                    bool ran;
                    _compactionGate.Wait();
                    try
                    {
                        Version current = _versions.Current;
                        CompactionPlan? plan = Picker.Pick(current);
                        bool readTriggered = false;
                        if (plan is null && _readCompactions.Enabled)
                        {
                            plan = PickReadTriggeredCompaction(current);
                            readTriggered = plan is not null;
                        }

                        ran = plan is not null;
                        if (plan is not null)
                        {
                            if (readTriggered)
                            {
                                // Counted before it is installed, so whoever sees its result sees it counted.
                                _counters.AddReadTriggeredCompaction();
                            }

                            RunCompaction(plan, allowTrivialMove: true);
                        }
                    }
                    finally
                    {
                        _compactionGate.Release();
                    }

                    if (!ran)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (Volatile.Read(ref _closing))
            {
                return;
            }
            catch (Exception e)
            {
                SetBackgroundError(e);
                return;
            }
        }
    }

    /// <summary>
    /// REQUIRES: _compactionGate held, and no size-triggered compaction due. The oldest queued read-triggered
    /// candidate still live in <paramref name="v"/>, expanded like any compaction of its level; null when none,
    /// or while a frozen memtable waits for its flush (the flush comes first: it frees memory writers may be
    /// waiting for, and may make a size-triggered compaction due). The candidate stays queued in that case;
    /// the flush requests compaction again when it is done.
    /// </summary>
    private CompactionPlan? PickReadTriggeredCompaction(Version v)
    {
        if (!_readCompactions.HasCandidates)
        {
            return null;
        }

        lock (_mutex)
        {
            if (_immutables.Length > 0)
            {
                return null;
            }
        }

        while (_readCompactions.TryTake(v, out FileMetaData file, out int level))
        {
            CompactionPlan plan = CompactionPicker.ForFile(v, level, file);
            long overlap = 0;
            foreach (FileMetaData f in plan.OutputLevelInputs)
            {
                overlap += f.Size;
            }

            if (overlap <= ReadCompactionMaxOverlapFiles * _options.TargetFileSizeBytes)
            {
                _options.InfoLog?.Invoke(
                    $"read-triggered compaction: table {file.Number} (L{level}, {file.Size} bytes, read budget {_readCompactions.Budget(file)} seeks) " +
                    $"with {plan.Inputs.Count - 1} more L{level} and {plan.OutputLevelInputs.Count} L{plan.OutputLevel} tables ({overlap} bytes)");
                return plan;
            }

            // Too wide: a rewrite that large is not worth what one table's wasted reads cost.
            _readCompactions.NoteTooWide();
        }

        return null;
    }

    /// <summary>
    /// A read-triggered compaction is skipped when the next level's overlap exceeds this many target-size
    /// files: it bounds the cost of any one of them (a size-triggered compaction will get there in time).
    /// </summary>
    private const int ReadCompactionMaxOverlapFiles = 25;

    /// <summary>REQUIRES: _compactionGate held. Merges the plan's inputs into new files of the output level.</summary>
    private void RunCompaction(CompactionPlan plan, bool allowTrivialMove)
    {
        long t0 = Stopwatch.GetTimestamp();
        var edit = new VersionEdit();
        foreach (FileMetaData f in plan.Inputs)
        {
            edit.DeleteFile(plan.Level, f.Number);
        }

        foreach (FileMetaData f in plan.OutputLevelInputs)
        {
            edit.DeleteFile(plan.OutputLevel, f.Number);
        }

        if (allowTrivialMove && plan.IsTrivialMove)
        {
            foreach (FileMetaData f in plan.Inputs)
            {
                // The same table, one level down: what reads of it cost there is a new question.
                f.ResetSeekCharges();
                edit.AddFile(plan.OutputLevel, f);
            }

            InstallCompaction(edit);
            return;
        }

        List<FileMetaData> outputs = WriteCompactionOutputs(plan);
        long written = 0;
        foreach (FileMetaData f in outputs)
        {
            edit.AddFile(plan.OutputLevel, f);
            written += f.EntryCount > 0 ? f.Size : 0;
        }

        if (outputs.Count > 0)
        {
            _fs.SyncDirectory(Path);
        }

        InstallCompaction(edit);
        _counters.AddCompaction(written, Stopwatch.GetElapsedTime(t0));
    }

    private void InstallCompaction(VersionEdit edit)
    {
        _versions.LogAndApply(edit, LastSequence);
        lock (_mutex)
        {
            InstallSuperVersion();
            Monitor.PulseAll(_mutex);
        }
    }

    /// <summary>
    /// The merge itself: drops versions no reader can see (shadowed within a snapshot stripe, covered by a
    /// range tombstone in the same stripe, or point deletions at the bottom of the tree that every reader
    /// sees), and cuts the output into files of about TargetFileSizeBytes, never splitting one user key's
    /// versions across files. Range tombstones are fragmented and clipped to each output file's key span.
    /// </summary>
    private List<FileMetaData> WriteCompactionOutputs(CompactionPlan plan)
    {
        Version v = _versions.Current;
        var stripes = new SnapshotStripes(_snapshots.GetSequences());
        var inputTombstones = new List<RangeTombstone>();
        var children = new List<IInternalIterator>();
        foreach (FileMetaData f in plan.AllInputs)
        {
            inputTombstones.AddRange(f.RangeTombstones);
            if (f.EntryCount > 0)
            {
                children.Add(new TableFileIterator(_tables, f, fillCache: false));
            }
        }

        RangeTombstoneIndex tombstoneIndex = RangeTombstoneIndex.Build(inputTombstones);
        List<RangeTombstone> outputTombstones = TombstoneFragmenter.Fragment(
            inputTombstones, stripes, (s, e) => !v.OverlapsBelow(plan.OutputLevel, s, e));

        var outputs = new List<FileMetaData>();
        using var input = new MergingIterator([.. children]);
        TableFileWriter? current = null;
        byte[]? currentLow = null;
        var hidden = new HiddenVersionFilter(stripes, tombstoneIndex);
        bool cutPending = false;
        try
        {
            long seen = 0;
            for (input.SeekToFirst(); input.Valid; input.Next())
            {
                if ((++seen & 4095) == 0 && Volatile.Read(ref _closing))
                {
                    // Dispose is waiting: abandon the outputs; the inputs are untouched and stay live.
                    throw new OperationCanceledException("The database is closing.");
                }

                ReadOnlySpan<byte> key = input.Key;
                bool isHidden = hidden.IsHidden(key);
                if (hidden.NewUserKey && cutPending && current is not null)
                {
                    // Cut between user keys: the next file starts at this key.
                    byte[] cut = InternalKey.UserKey(key).ToArray();
                    outputs.Add(current.Finish(TombstoneFragmenter.Clip(outputTombstones, currentLow, cut)));
                    current = null;
                    currentLow = cut;
                    cutPending = false;
                }

                if (isHidden)
                {
                    continue;
                }

                if (InternalKey.KindOf(key) == ValueKind.Deletion && hidden.Stripe == 0 &&
                    !v.OverlapsBelow(plan.OutputLevel, InternalKey.UserKey(key), InternalKey.UserKey(key)))
                {
                    // Every reader sees the deletion and nothing older exists below: the marker has done its job.
                    continue;
                }

                current ??= new TableFileWriter(_fs, Path, _versions.NewFileNumber(), _writeOptionsByLevel[plan.OutputLevel], _options.TableBytesPerSync, _backgroundWriteLimiter);
                current.Add(key, input.Value);
                if (current.EstimatedSize >= _options.TargetFileSizeBytes)
                {
                    cutPending = true;
                }
            }

            if (current is not null)
            {
                outputs.Add(current.Finish(TombstoneFragmenter.Clip(outputTombstones, currentLow, null)));
                current = null;
            }
            else
            {
                RangeTombstone[] rest = TombstoneFragmenter.Clip(outputTombstones, currentLow, null);
                if (rest.Length > 0)
                {
                    // Only tombstones remain: record them in a file entry with no table behind it.
                    var bounds = new FileBoundsTracker();
                    foreach (RangeTombstone t in rest)
                    {
                        bounds.AddTombstone(t);
                    }

                    outputs.Add(bounds.ToFile(_versions.NewFileNumber(), 0, 0, rest));
                }
            }
        }
        catch
        {
            current?.Abandon();
            foreach (FileMetaData f in outputs)
            {
                TryDeleteFile(FileNames.Table(Path, f.Number));
            }

            throw;
        }

        return outputs;
    }
}
