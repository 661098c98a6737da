using System.Diagnostics;
using NoKv.Storage.Compaction;
using NoKv.Storage.Db;
using NoKv.Storage.Iterators;
using NoKv.Storage.Manifest;
using NoKv.Storage.RangeDeletion;
using NoKv.Storage.Sstable;
using NoKv.Storage.ValueLog;
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

        // The garbage these compactions counted may have put value files below the collection threshold (and
        // their collection runs on the compaction thread, which nothing else may wake for a long time).
        MaybeScheduleCompaction();
    }

    /// <summary>
    /// Whether flush or compaction is late enough that pacing it would soon hold writers back: level 0 at or past a
    /// quarter of the way from <see cref="StorageOptions.Level0CompactionTrigger"/> to
    /// <see cref="StorageOptions.Level0SlowdownTrigger"/> (8 files with the defaults; RocksDB speeds compaction up at
    /// the same point), or every immutable memtable slot taken (the next full memtable waits for a flush). The
    /// background write limiter does not pace while this holds. Lock-free reads; a stale answer paces one more or one
    /// fewer chunk of output.
    /// </summary>
    internal bool BackgroundWorkBehind()
    {
        int trigger = _options.Level0CompactionTrigger;
        int speedup = trigger + ((_options.Level0SlowdownTrigger - trigger) / 4);
        return _versions.Current.Files[0].Length >= Math.Max(trigger, speedup)
            || Volatile.Read(ref _immutables).Length >= _options.MaxImmutableMemtables;
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

                        bool valueLogTriggered = false;
                        if (plan is null)
                        {
                            plan = PickValueLogCompaction(current);
                            valueLogTriggered = plan is not null;
                        }

                        ran = plan is not null;
                        if (plan is not null)
                        {
                            if (readTriggered)
                            {
                                // Counted before it is installed, so whoever sees its result sees it counted.
                                _counters.AddReadTriggeredCompaction();
                            }

                            // A value-log compaction exists to rewrite its table: moving it down would relocate nothing.
                            RunCompaction(plan, allowTrivialMove: !valueLogTriggered);
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

            if (overlap > ReadCompactionMaxOverlapFiles * _options.TargetFileSizeBytes)
            {
                // Too wide: a rewrite that large is not worth what one table's wasted reads cost.
                _readCompactions.NoteTooWide();
                continue;
            }

            long rewrite = overlap;
            foreach (FileMetaData f in plan.Inputs)
            {
                rewrite += f.Size;
            }

            long budget = _readCompactions.RewriteBudget(rewrite);
            if (file.SeekCharges < budget)
            {
                // Not paid for yet: the compaction rewrites more than the table alone, which is all its budget priced
                // (a small level-0 table over a large level 1 would rewrite all of level 1 on the reads one small table
                // wasted). Queued again once its charges cover the rewrite.
                _readCompactions.Defer(file, budget);
                continue;
            }

            _options.InfoLog?.Invoke(
                $"read-triggered compaction: table {file.Number} (L{level}, {file.Size} bytes, {file.SeekCharges} seeks charged, read budget {budget} seeks) " +
                $"with {plan.Inputs.Count - 1} more L{level} and {plan.OutputLevelInputs.Count} L{plan.OutputLevel} tables ({overlap} bytes)");
            return plan;
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
            LogCompaction(plan, "moved", 0, t0);
            return;
        }

        List<FileMetaData> outputs = WriteCompactionOutputs(plan, edit, out long relocated);
        long written = ValueFileBytes(edit.NewValueFiles);
        foreach (FileMetaData f in outputs)
        {
            edit.AddFile(plan.OutputLevel, f);
            written += f.EntryCount > 0 ? f.Size : 0;
        }

        if (outputs.Count > 0 || edit.NewValueFiles.Count > 0)
        {
            _fs.SyncDirectory(Path);
        }

        // Counted before the install, so whoever sees its result (a value file gone) sees it counted.
        Interlocked.Add(ref _valueFilesCreated, edit.NewValueFiles.Count);
        Interlocked.Add(ref _valueBytesRelocated, relocated);
        InstallCompaction(edit);

        _counters.AddCompaction(written, Stopwatch.GetElapsedTime(t0));
        LogCompaction(plan, "merged", written, t0);
    }

    /// <summary>One line per compaction to <see cref="StorageOptions.InfoLog"/>: what write amplification is made of.</summary>
    private void LogCompaction(CompactionPlan plan, string how, long written, long startTimestamp)
    {
        if (_options.InfoLog is not { } log)
        {
            return;
        }

        long upper = 0;
        foreach (FileMetaData f in plan.Inputs)
        {
            upper += f.Size;
        }

        long lower = 0;
        foreach (FileMetaData f in plan.OutputLevelInputs)
        {
            lower += f.Size;
        }

        Version v = _versions.Current;
        var shape = new System.Text.StringBuilder();
        for (int level = 0; level < v.NumLevels; level++)
        {
            if (v.Files[level].Length > 0)
            {
                shape.Append(System.Globalization.CultureInfo.InvariantCulture, $" L{level}={v.Files[level].Length}/{v.LevelBytes(level) >> 20}M");
            }
        }

        log(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"compaction L{plan.Level}->L{plan.OutputLevel} {how}: {plan.Inputs.Count} files {upper >> 20} MiB + {plan.OutputLevelInputs.Count} files {lower >> 20} MiB, " +
            $"wrote {written >> 20} MiB in {Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds:F0} ms; now{shape}"));
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
    /// <para>
    /// Value log: a value at or above the threshold moves to a value file (written for this compaction, recorded in
    /// <paramref name="edit"/>) and the output keeps its pointer; a pointer into a value file being collected (live
    /// share below <see cref="StorageOptions.ValueLogGcLiveRatio"/>) has its value read, checked and written again
    /// (to a new value file, or inline when the value log is now off); every other pointer is copied as it is. Each
    /// dropped or relocated pointer counts as garbage of its file in <paramref name="edit"/>.
    /// </para>
    private List<FileMetaData> WriteCompactionOutputs(CompactionPlan plan, VersionEdit edit, out long relocatedBytes)
    {
        Version v = _versions.Current;
        var shared = new CompactionInputs(plan, v, ValueFilesToCollect(v, plan), new SnapshotStripes(_snapshots.GetSequences()));
        List<byte[]> splits = SubcompactionSplits(plan, _options.MaxSubcompactions);
        if (splits.Count == 0)
        {
            return WriteCompactionRange(shared, null, null, edit, out relocatedBytes);
        }

        // Subcompactions: the key space cut at user keys into disjoint ranges, each merged on its own thread into its
        // own tables and value files. No output is named anywhere until the one edit below, so a crash at any point
        // leaves the inputs live and the outputs unnamed (the sweep at open deletes them), as for one merge.
        int parts = splits.Count + 1;
        var edits = new VersionEdit[parts];
        var results = new List<FileMetaData>?[parts];
        var relocated = new long[parts];
        var failures = new Exception?[parts];
        void Run(int part)
        {
            byte[]? lo = part == 0 ? null : splits[part - 1];
            byte[]? hi = part == parts - 1 ? null : splits[part];
            edits[part] = new VersionEdit();
            try
            {
                results[part] = WriteCompactionRange(shared, lo, hi, edits[part], out relocated[part]);
            }
            catch (Exception e)
            {
                failures[part] = e;
            }
        }

        var threads = new Thread[parts - 1];
        for (int i = 1; i < parts; i++)
        {
            int part = i;
            threads[i - 1] = new Thread(() =>
            {
                BackgroundThreadPriority.LowerCurrentThread(_options.BackgroundThreadNice);
                Run(part);
            })
            { IsBackground = true, Name = "nokv-subcompaction" };
            threads[i - 1].Start();
        }

        // The compaction thread merges the first range itself.
        Run(0);
        foreach (Thread t in threads)
        {
            t.Join();
        }

        _counters.AddSubcompactions(parts);
        Exception? failure = failures.FirstOrDefault(f => f is not null);
        if (failure is not null)
        {
            // Each failed range deleted its own outputs; the others' are deleted here. Nothing names any of them.
            for (int i = 0; i < parts; i++)
            {
                foreach (ValueFileMeta f in edits[i].NewValueFiles)
                {
                    TryDeleteFile(FileNames.ValueFile(Path, f.Number));
                }

                foreach (FileMetaData f in results[i] ?? [])
                {
                    TryDeleteFile(FileNames.Table(Path, f.Number));
                }
            }

            // A close interrupting any range is a close, whatever else failed.
            throw failures.FirstOrDefault(f => f is OperationCanceledException) ?? failure;
        }

        var outputs = new List<FileMetaData>();
        relocatedBytes = 0;
        for (int i = 0; i < parts; i++)
        {
            outputs.AddRange(results[i]!);
            relocatedBytes += relocated[i];
            edit.NewValueFiles.AddRange(edits[i].NewValueFiles);
            foreach (KeyValuePair<ulong, (long Count, long Bytes)> g in edits[i].ValueFileGarbage)
            {
                edit.AddValueFileGarbage(g.Key, g.Value.Count, g.Value.Bytes);
            }
        }

        return outputs;
    }

    /// <summary>
    /// Where to cut a compaction into <paramref name="maxParts"/> ranges of about equal input bytes, as user keys
    /// (each the first key of a range after the first); empty for one range. The cuts are the first keys of
    /// output-level inputs, weighted by their sizes: the inputs from above usually span them all (level 0 under
    /// random keys), and a cut between two tables of one level never splits a user key's versions.
    /// </summary>
    internal static List<byte[]> SubcompactionSplits(CompactionPlan plan, int maxParts)
    {
        var splits = new List<byte[]>();
        List<FileMetaData> lower = plan.OutputLevelInputs;
        if (maxParts <= 1 || lower.Count < 2 || plan.Level == plan.OutputLevel)
        {
            return splits;
        }

        long total = 0;
        foreach (FileMetaData f in lower)
        {
            total += f.Size;
        }

        int parts = Math.Min(maxParts, lower.Count);
        long seen = 0;
        for (int i = 0; i < lower.Count - 1 && splits.Count < parts - 1; i++)
        {
            seen += lower[i].Size;
            if (seen * parts >= total * (splits.Count + 1))
            {
                splits.Add(lower[i + 1].SmallestUserKey.ToArray());
            }
        }

        return splits;
    }

    /// <summary>What every range of one compaction shares, read-only.</summary>
    private sealed class CompactionInputs
    {
        public CompactionInputs(CompactionPlan plan, Version v, HashSet<ulong>? collecting, SnapshotStripes stripes)
        {
            Plan = plan;
            Version = v;
            Collecting = collecting;
            Stripes = stripes;
            var inputTombstones = new List<RangeTombstone>();
            foreach (FileMetaData f in plan.AllInputs)
            {
                inputTombstones.AddRange(f.RangeTombstones);
            }

            TombstoneIndex = RangeTombstoneIndex.Build(inputTombstones);
            OutputTombstones = TombstoneFragmenter.Fragment(
                inputTombstones, stripes, (s, e) => !v.OverlapsBelow(plan.OutputLevel, s, e));
        }

        public CompactionPlan Plan { get; }

        public Version Version { get; }

        public HashSet<ulong>? Collecting { get; }

        public SnapshotStripes Stripes { get; }

        public RangeTombstoneIndex TombstoneIndex { get; }

        public List<RangeTombstone> OutputTombstones { get; }
    }

    /// <summary>
    /// The merge of the user keys in [<paramref name="lo"/>, <paramref name="hi"/>) (null = unbounded) of a compaction's
    /// inputs: its output tables, with value files written and garbage counted in <paramref name="edit"/>. On failure
    /// its own outputs are deleted.
    /// </summary>
    private List<FileMetaData> WriteCompactionRange(CompactionInputs shared, byte[]? lo, byte[]? hi, VersionEdit edit, out long relocatedBytes)
    {
        relocatedBytes = 0;
        CompactionPlan plan = shared.Plan;
        Version v = shared.Version;
        HashSet<ulong>? collecting = shared.Collecting;
        int minSeparated = _options.ValueLogMinValueBytes;
        ValueSeparator? separator = null;
        byte[] pointerKey = [];
        byte[] relocated = [];
        List<RangeTombstone> outputTombstones = shared.OutputTombstones;
        var children = new List<IInternalIterator>();
        foreach (FileMetaData f in plan.AllInputs)
        {
            if (f.EntryCount > 0 &&
                (lo is null || f.LargestUserKey.SequenceCompareTo(lo) >= 0) &&
                (hi is null || f.SmallestUserKey.SequenceCompareTo(hi) < 0))
            {
                children.Add(new TableFileIterator(_tables, f, fillCache: false));
            }
        }

        var outputs = new List<FileMetaData>();
        using var input = new MergingIterator([.. children]);
        TableFileWriter? current = null;
        byte[]? currentLow = lo;
        var hidden = new HiddenVersionFilter(shared.Stripes, shared.TombstoneIndex);
        bool cutPending = false;
        try
        {
            long seen = 0;
            if (lo is null)
            {
                input.SeekToFirst();
            }
            else
            {
                input.Seek(InternalKey.Make(lo, InternalKey.SeekTrailer));
            }

            for (; input.Valid; input.Next())
            {
                if ((++seen & 4095) == 0 && Volatile.Read(ref _closing))
                {
                    // Dispose is waiting: abandon the outputs; the inputs are untouched and stay live.
                    throw new OperationCanceledException("The database is closing.");
                }

                ReadOnlySpan<byte> key = input.Key;
                if (hi is not null && InternalKey.UserKey(key).SequenceCompareTo(hi) >= 0)
                {
                    // The next range's first key: every version of it belongs to that range.
                    break;
                }

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
                    if (InternalKey.KindOf(key) == ValueKind.ValuePointer)
                    {
                        ValuePointer dead = ValuePointer.Decode(input.Value, "<compaction input>");
                        edit.AddValueFileGarbage(dead.FileNumber, 1, dead.Size);
                    }

                    continue;
                }

                if (InternalKey.KindOf(key) == ValueKind.Deletion && hidden.Stripe == 0 &&
                    !v.OverlapsBelow(plan.OutputLevel, InternalKey.UserKey(key), InternalKey.UserKey(key)))
                {
                    // Every reader sees the deletion and nothing older exists below: the marker has done its job.
                    continue;
                }

                current ??= new TableFileWriter(_fs, Path, _versions.NewFileNumber(), _writeOptionsByLevel[plan.OutputLevel], _options.TableBytesPerSync, _backgroundWriteLimiter);
                ReadOnlySpan<byte> value = input.Value;
                ValueKind kind = InternalKey.KindOf(key);
                bool pointerKept = false;
                if (kind == ValueKind.ValuePointer)
                {
                    ValuePointer p = ValuePointer.Decode(value, "<compaction input>");
                    if (collecting is null || !collecting.Contains(p.FileNumber))
                    {
                        current.Add(key, value);
                        current.NoteValueFile(p.FileNumber, p.Size);
                        pointerKept = true;
                    }
                    else
                    {
                        // Relocated: read (and check) the live value, then write it again as a plain value below.
                        if (relocated.Length < p.Size)
                        {
                            relocated = new byte[Math.Max(p.Size, relocated.Length * 2)];
                        }

                        _valueFiles.Read(p, relocated);
                        value = relocated.AsSpan(0, p.Size);
                        edit.AddValueFileGarbage(p.FileNumber, 1, p.Size);
                        relocatedBytes += p.Size;
                        kind = ValueKind.Value;
                    }
                }

                if (!pointerKept)
                {
                    if (kind == ValueKind.Value && minSeparated > 0 && value.Length >= minSeparated)
                    {
                        separator ??= NewValueSeparator();
                        ReadOnlySpan<byte> pointer = separator.Add(InternalKey.UserKey(key), value, out ValuePointer p);
                        current.Add(PointerKey(key, ref pointerKey), pointer);
                        current.NoteValueFile(p.FileNumber, p.Size);
                    }
                    else if (InternalKey.KindOf(key) == ValueKind.ValuePointer)
                    {
                        // A relocated value that now stays inline: the entry becomes a plain value again.
                        current.Add(ValueKey(key, ref pointerKey), value);
                    }
                    else
                    {
                        current.Add(key, value);
                    }
                }

                if (current.EstimatedSize >= _options.TargetFileSizeBytes)
                {
                    cutPending = true;
                }
            }

            if (relocatedBytes > 0)
            {
                _options.InfoLog?.Invoke(
                    $"value-log collection: relocating {relocatedBytes} bytes from value files {string.Join(",", collecting!.Order())} " +
                    $"(L{plan.Level}->L{plan.OutputLevel})");
            }

            // Value files first: once a table is synced, the values it points to must be too. Output tables cut
            // earlier were synced before these; that is safe, since nothing names any of them until the edit.
            if (separator is not null)
            {
                edit.NewValueFiles.AddRange(separator.Finish());
            }

            if (current is not null)
            {
                outputs.Add(current.Finish(TombstoneFragmenter.Clip(outputTombstones, currentLow, hi)));
                current = null;
            }
            else
            {
                RangeTombstone[] rest = TombstoneFragmenter.Clip(outputTombstones, currentLow, hi);
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
            separator?.Abandon();
            foreach (ValueFileMeta f in edit.NewValueFiles)
            {
                TryDeleteFile(FileNames.ValueFile(Path, f.Number));
            }

            foreach (FileMetaData f in outputs)
            {
                TryDeleteFile(FileNames.Table(Path, f.Number));
            }

            throw;
        }

        return outputs;
    }

    /// <summary>
    /// The value files this compaction collects, or null if none: of the files its inputs point into whose live
    /// share is below the threshold, lowest share first (most space back per byte rewritten), as many as fit
    /// <see cref="StorageOptions.ValueLogGcBytesPerCompaction"/> live bytes, and always the first. A value-log
    /// compaction's target file has the lowest share of all, so it is always among them and collection progresses.
    /// </summary>
    private HashSet<ulong>? ValueFilesToCollect(Version v, CompactionPlan plan)
    {
        double threshold = _options.ValueLogGcLiveRatio;
        if (threshold <= 0 || v.ValueFiles.Length == 0)
        {
            return null;
        }

        var pointedInto = new HashSet<ulong>();
        foreach (FileMetaData f in plan.AllInputs)
        {
            pointedInto.UnionWith(f.ValueFiles);
        }

        List<ValueFileMeta>? candidates = null;
        foreach (ValueFileMeta f in v.ValueFiles)
        {
            if (f.LiveRatio < threshold && pointedInto.Contains(f.Number))
            {
                (candidates ??= []).Add(f);
            }
        }

        if (candidates is null)
        {
            return null;
        }

        candidates.Sort(static (a, b) => a.LiveRatio.CompareTo(b.LiveRatio));
        var result = new HashSet<ulong>();
        long budget = _options.ValueLogGcBytesPerCompaction;
        long taken = 0;
        foreach (ValueFileMeta f in candidates)
        {
            long live = Math.Max(0, f.ValueBytes - f.GarbageBytes);
            if (result.Count > 0 && taken + live > budget)
            {
                // Cheaper files later in the list may still fit; keep looking.
                continue;
            }

            result.Add(f.Number);
            taken += live;
        }

        return result;
    }

    /// <summary>
    /// REQUIRES: _compactionGate held, and no other compaction due. A compaction that rewrites a table pointing into
    /// the value file with the lowest live share below the threshold (its pointers into collected files are
    /// relocated), or null when no file is below it. Each such compaction leaves one fewer table pointing into the
    /// file, so collection ends; the file is deleted when the last one is rewritten.
    /// </summary>
    private CompactionPlan? PickValueLogCompaction(Version v)
    {
        if (v.ValueFiles.Length == 0 || _options.ValueLogGcLiveRatio <= 0)
        {
            return null;
        }

        ValueFileMeta? worst = null;
        foreach (ValueFileMeta f in v.ValueFiles)
        {
            if (f.LiveRatio < _options.ValueLogGcLiveRatio && (worst is null || f.LiveRatio < worst.LiveRatio))
            {
                worst = f;
            }
        }

        if (worst is null)
        {
            return null;
        }

        lock (_mutex)
        {
            if (_immutables.Length > 0)
            {
                // A flush first (as for read-triggered compactions); it asks for compaction again when done.
                return null;
            }
        }

        for (int level = v.NumLevels - 1; level >= 0; level--)
        {
            foreach (FileMetaData f in v.Files[level])
            {
                if (Array.BinarySearch(f.ValueFiles, worst.Number) >= 0)
                {
                    return level == v.NumLevels - 1
                        ? new CompactionPlan(level, level, [f], [])
                        : CompactionPicker.ForFile(v, level, f);
                }
            }
        }

        return null;
    }

    /// <summary><paramref name="internalKey"/> with its kind changed to <see cref="ValueKind.Value"/>, in <paramref name="buffer"/>.</summary>
    private static ReadOnlySpan<byte> ValueKey(ReadOnlySpan<byte> internalKey, ref byte[] buffer)
    {
        if (buffer.Length < internalKey.Length)
        {
            buffer = new byte[Math.Max(internalKey.Length, 64)];
        }

        ulong trailer = InternalKey.TrailerOf(internalKey);
        return buffer.AsSpan(0, InternalKey.Write(buffer, InternalKey.UserKey(internalKey), (trailer & ~0xFFUL) | (byte)ValueKind.Value));
    }
}
