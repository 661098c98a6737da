using System.Buffers;
using System.Runtime.CompilerServices;
using NoKv.Storage.Cache;
using NoKv.Storage.Compaction;
using NoKv.Storage.Db;
using NoKv.Storage.Iterators;
using NoKv.Storage.Manifest;
using NoKv.Storage.Memtable;
using NoKv.Storage.Sstable;
using NoKv.Storage.ValueLog;

namespace NoKv.Storage;

/// <summary>Point lookups, snapshots and iterators.</summary>
public sealed partial class Database
{
    /// <summary>The value of <paramref name="key"/>, or null if absent (at the snapshot, if one is given).</summary>
    /// <exception cref="CorruptionException">A block on the lookup path failed verification.</exception>
    public byte[]? Get(ReadOnlySpan<byte> key, ReadOptions? options = null)
    {
        var sink = default(ArrayValueSink);
        return GetCore(key, options, ref sink) ? sink.Value : null;
    }

    /// <summary>Writes the value of <paramref name="key"/> into <paramref name="value"/> and returns true, or returns false if absent.</summary>
    public bool TryGet(ReadOnlySpan<byte> key, IBufferWriter<byte> value, ReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sink = new BufferWriterValueSink(value);
        return GetCore(key, options, ref sink);
    }

    /// <summary>A consistent view as of now; dispose it to let compaction reclaim what only it could see.</summary>
    public Snapshot GetSnapshot()
    {
        ThrowIfDisposed();
        return _snapshots.Create(this);
    }

    /// <summary>An iterator over a consistent view (the options' snapshot, or now) within the options' bounds.</summary>
    public StorageIterator NewIterator(ReadOptions? options = null)
    {
        ThrowIfDisposed();
        ulong snapshot = SnapshotSequence(options);
        if (options?.LowerBound is { } lo && options.UpperBound is { } hi && lo.AsSpan().SequenceCompareTo(hi) > 0)
        {
            throw new ArgumentException("ReadOptions.LowerBound must not sort after UpperBound.", nameof(options));
        }

        SuperVersion sv = AcquireSuperVersion();
        try
        {
            if (options?.Snapshot is null)
            {
                // The present is read after taking the super version: see SnapshotSequence.
                snapshot = LastSequence;
            }

            bool fillCache = options?.FillCache ?? true;
            ReadCompactionTracker? sampler = _readCompactions.Enabled ? _readCompactions : null;
            if (fillCache)
            {
                // The common case reuses a parked set of parts: a short scan then allocates its DbIterator and little else.
                IteratorParts parts = _iteratorParts.Rent();
                try
                {
                    MergingIterator pooled = parts.Build(sv);
                    return new DbIterator(pooled, sv, snapshot, options?.LowerBound, options?.UpperBound, sampler, parts.TableChildren, _valueFiles, parts, _iteratorParts);
                }
                catch
                {
                    _iteratorParts.Return(parts);
                    throw;
                }
            }

            var children = new List<IInternalIterator> { sv.Mem.NewIterator() };
            foreach (MemTable m in sv.Immutables)
            {
                children.Add(m.NewIterator());
            }

            Version v = sv.Version;
            foreach (FileMetaData f in v.Files[0])
            {
                if (f.EntryCount > 0)
                {
                    children.Add(new TableFileIterator(_tables, f, fillCache));
                }
            }

            for (int level = 1; level < v.NumLevels; level++)
            {
                if (v.Files[level].Length > 0)
                {
                    children.Add(new LevelIterator(_tables, v.Files[level], fillCache));
                }
            }

            var merged = new MergingIterator([.. children]);
            return new DbIterator(merged, sv, snapshot, options?.LowerBound, options?.UpperBound, sampler, children.Count - 1 - sv.Immutables.Length, _valueFiles);
        }
        catch
        {
            sv.Unref();
            throw;
        }
    }

    /// <summary>
    /// The options' snapshot sequence (checked not disposed), or the present. A read of the present must read
    /// it again after taking its super version (RocksDB's order): a flush or compaction may drop versions that
    /// only a sequence older than its inputs' newest could see (they are hidden by newer versions or range
    /// tombstones), so a reader that took the present first and the super version after such a job would see
    /// neither the dropped version nor what hid it. Taken the other way round, the present is at or above every
    /// sequence in the super version's flushed and compacted parts; writes that land in a newer memtable in
    /// between are concurrent with the read, which may order itself before them.
    /// </summary>
    private ulong SnapshotSequence(ReadOptions? options)
    {
        if (options?.Snapshot is { } s)
        {
            ObjectDisposedException.ThrowIf(s.IsDisposed, s);
            return s.SequenceNumber;
        }

        return LastSequence;
    }

    // Stack scratch is fully written before use; skipping its zeroing matters on the hottest path.
    [SkipLocalsInit]
    private bool GetCore<TSink>(ReadOnlySpan<byte> key, ReadOptions? options, ref TSink sink)
        where TSink : struct, IValueSink
    {
        ThrowIfDisposed();
        ulong snapshot = SnapshotSequence(options);
        bool fillCache = options?.FillCache ?? true;
        SuperVersion sv = _superCache.TryTake(out SuperVersionSlot slot) ?? AcquireSuperVersion();
        if (options?.Snapshot is null)
        {
            // The present is read after taking the super version: see SnapshotSequence.
            snapshot = LastSequence;
        }

        byte[]? rented = null;
        try
        {
            ulong tombstone = sv.MaxCoveringTombstone(key, snapshot);
            MemtableGetResult r = sv.Mem.Get(key, snapshot, out ReadOnlySpan<byte> value, out ulong seq);
            if (r == MemtableGetResult.NotFound)
            {
                foreach (MemTable m in sv.Immutables)
                {
                    r = m.Get(key, snapshot, out value, out seq);
                    if (r != MemtableGetResult.NotFound)
                    {
                        break;
                    }
                }
            }

            if (r != MemtableGetResult.NotFound)
            {
                if (r == MemtableGetResult.Found && seq >= tombstone)
                {
                    sink.Set(value);
                    return true;
                }

                return false;
            }

            int len = key.Length + InternalKey.TrailerSize;
            Span<byte> lookup = len <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(len));
            lookup = lookup[..len];
            InternalKey.Write(lookup, key, (snapshot << 8) | 0xFF);
            Version v = sv.Version;

            // The first table whose data block this read fetched without finding the key; if the read goes on to
            // another table, it is charged (sampled) to it. A table whose filter ruled the key out cost a filter
            // probe only, far too little to pay for compacting it, so it is not charged.
            FileMetaData? firstTable = null;
            bool sampling = _readCompactions.Enabled;
            foreach (FileMetaData f in v.Files[0])
            {
                if (key.SequenceCompareTo(f.SmallestUserKey) < 0 || key.SequenceCompareTo(f.LargestUserKey) > 0 || f.EntryCount == 0)
                {
                    continue;
                }

                if (sampling && firstTable is not null)
                {
                    ChargeWastedRead(firstTable, ref sampling);
                }

                int found = GetFromTable(f, lookup, tombstone, fillCache, ref sink);
                if (found >= 0)
                {
                    return found == 1;
                }

                if (found == NotInTableBlockRead)
                {
                    firstTable ??= f;
                }
            }

            for (int level = 1; level < v.NumLevels; level++)
            {
                FileMetaData[] files = v.Files[level];
                if (files.Length == 0)
                {
                    continue;
                }

                int i = Version.FindFile(files, lookup);
                if (i >= files.Length)
                {
                    continue;
                }

                FileMetaData f = files[i];
                if (key.SequenceCompareTo(f.SmallestUserKey) < 0 || f.EntryCount == 0)
                {
                    continue;
                }

                if (sampling && firstTable is not null)
                {
                    ChargeWastedRead(firstTable, ref sampling);
                }

                int found = GetFromTable(f, lookup, tombstone, fillCache, ref sink);
                if (found >= 0)
                {
                    return found == 1;
                }

                if (found == NotInTableBlockRead)
                {
                    firstTable ??= f;
                }
            }

            return false;
        }
        finally
        {
            _superCache.Return(slot, sv);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// A point read that read a data block of <paramref name="wasted"/> without finding its key is about to consult
    /// another table: charges <paramref name="wasted"/> (sampled; once per read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ChargeWastedRead(FileMetaData wasted, ref bool sampling)
    {
        _readCompactions.OnMultiTableGet(wasted);
        sampling = false;
    }

    // GetFromTable's "not in this table": a data block was read (-1), or the filter ruled the key out (-2).
    private const int NotInTableBlockRead = -1;
    private const int NotInTableFiltered = -2;

    /// <summary>
    /// 1 = found a live value (sink set), 0 = the newest visible version is deleted, -1 = not in this table (a
    /// data block was read), -2 = not in this table (its filter ruled the key out, nothing was read).
    /// </summary>
    private int GetFromTable<TSink>(FileMetaData f, ReadOnlySpan<byte> lookup, ulong tombstone, bool fillCache, ref TSink sink)
        where TSink : struct, IValueSink
    {
        // Live files are normally pinned: no table-cache lookup, no reference count to bump.
        TableCacheEntry? pinned = _pins.Get(f);
        if (pinned is not null)
        {
            return GetFromReader(pinned.Reader, lookup, tombstone, fillCache, ref sink);
        }

        // The value may point into the table's mapping: copy it into the sink before releasing the table,
        // which could otherwise be closed (and unmapped) by a concurrent eviction.
        TableCacheEntry entry = _tables.Acquire((long)f.Number);
        try
        {
            return GetFromReader(entry.Reader, lookup, tombstone, fillCache, ref sink);
        }
        finally
        {
            entry.Release();
        }
    }

    /// <summary>GetFromTable on an open table. REQUIRES: the caller keeps <paramref name="reader"/> open until this returns.</summary>
    private int GetFromReader<TSink>(TableReader reader, ReadOnlySpan<byte> lookup, ulong tombstone, bool fillCache, ref TSink sink)
        where TSink : struct, IValueSink
    {
        if (!reader.TryGet(lookup, out ReadOnlySpan<byte> foundKey, out ReadOnlySpan<byte> value, fillCache, out bool filtered))
        {
            return filtered ? NotInTableFiltered : NotInTableBlockRead;
        }

        ulong trailer = InternalKey.TrailerOf(foundKey);
        var kind = (ValueKind)(byte)trailer;
        int result = 0;
        if ((trailer >> 8) >= tombstone)
        {
            if (kind == ValueKind.Value)
            {
                sink.Set(value);
                result = 1;
            }
            else if (kind == ValueKind.ValuePointer)
            {
                // Decoded before the block goes; the value file is read after (the caller's super version keeps it).
                ValuePointer pointer = ValuePointer.Decode(value, reader.Path);
                TableReader.ReleaseGetLease();
                _valueFiles.ReadInto(pointer, ref sink);
                return 1;
            }
        }

        // The value is copied: let the block go, so its buffer can be reused once it is evicted.
        TableReader.ReleaseGetLease();
        return result;
    }
}
