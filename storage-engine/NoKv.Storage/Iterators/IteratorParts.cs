using NoKv.Storage.Cache;
using NoKv.Storage.Db;
using NoKv.Storage.Manifest;
using NoKv.Storage.Memtable;

namespace NoKv.Storage.Iterators;

/// <summary>
/// The reusable inside of a database iterator: the merging iterator, one level iterator per table child (a level-0
/// file is a level of one file) with its table iterator, block iterators and key buffers, and the seek-key buffer. A
/// scan that builds all of that afresh allocated about 2.5 KB before reading a byte; YCSB E's 200,000 short scans made
/// 240 gen-0 collections of it, each one pausing both client threads. Taken from an <see cref="IteratorPartsPool"/>
/// by <see cref="Database.NewIterator"/> and given back when the iterator is disposed; used by one iterator at a time.
/// </summary>
/// <remarks>
/// Only what outlives nothing is kept while parked: <see cref="Park"/> releases every table reference, block lease
/// and readahead buffer and forgets the files, so a parked set holds no table, version or memtable alive. Memtable
/// iterators are not kept (they are 32 bytes and would hold their memtable's arena).
/// </remarks>
internal sealed class IteratorParts
{
    private readonly TableCache _tables;
    private readonly List<LevelIterator> _levels = [];
    private readonly List<FileMetaData[]> _singleFiles = [];
    private readonly List<IInternalIterator> _scratch = [];
    private IInternalIterator[] _children = [];
    private MergingIterator? _merging;
    private int _levelsInUse;
    private int _singlesInUse;

    public IteratorParts(TableCache tables) => _tables = tables;

    /// <summary>The seek-key buffer an iterator borrows (it may replace it with a larger one).</summary>
    public byte[] SeekBuffer { get; set; } = new byte[64];

    /// <summary>Table children of the last <see cref="Build"/>: level-0 files and non-empty levels.</summary>
    public int TableChildren { get; private set; }

    /// <summary>
    /// A merging iterator over <paramref name="sv"/>'s memtables, level-0 files (newest first) and levels, in the order
    /// a database iterator needs them, reusing these parts. Every table is read with the block cache filled.
    /// </summary>
    public MergingIterator Build(SuperVersion sv)
    {
        _scratch.Clear();
        _levelsInUse = 0;
        _singlesInUse = 0;
        _scratch.Add(sv.Mem.NewIterator());
        foreach (MemTable m in sv.Immutables)
        {
            _scratch.Add(m.NewIterator());
        }

        Version v = sv.Version;
        foreach (FileMetaData f in v.Files[0])
        {
            if (f.EntryCount > 0)
            {
                FileMetaData[] one = NextSingle();
                one[0] = f;
                _scratch.Add(NextLevel(one));
            }
        }

        for (int level = 1; level < v.NumLevels; level++)
        {
            if (v.Files[level].Length > 0)
            {
                _scratch.Add(NextLevel(v.Files[level]));
            }
        }

        TableChildren = _levelsInUse;
        if (_children.Length != _scratch.Count)
        {
            _children = new IInternalIterator[_scratch.Count];
        }

        _scratch.CopyTo(_children);
        _scratch.Clear();
        if (_merging is null)
        {
            _merging = new MergingIterator(_children);
        }
        else
        {
            _merging.Reset(_children);
        }

        return _merging;
    }

    /// <summary>Releases what the last <see cref="Build"/> holds (table references, leases, buffers) and forgets it.</summary>
    public void Park()
    {
        for (int i = 0; i < _levelsInUse; i++)
        {
            _levels[i].Park();
        }

        foreach (FileMetaData[] one in _singleFiles)
        {
            one[0] = null!;
        }

        Array.Clear(_children);
        _levelsInUse = 0;
    }

    /// <summary>Drops every part for good (a pool that is full, or a database closing).</summary>
    public void Dispose()
    {
        Park();
        foreach (LevelIterator level in _levels)
        {
            level.Dispose();
        }

        _levels.Clear();
    }

    private FileMetaData[] NextSingle()
    {
        if (_singlesInUse == _singleFiles.Count)
        {
            _singleFiles.Add(new FileMetaData[1]);
        }

        return _singleFiles[_singlesInUse++];
    }

    private LevelIterator NextLevel(FileMetaData[] files)
    {
        LevelIterator level;
        if (_levelsInUse < _levels.Count)
        {
            level = _levels[_levelsInUse];
            level.Retarget(files);
        }
        else
        {
            level = new LevelIterator(_tables, files, fillCache: true);
            _levels.Add(level);
        }

        _levelsInUse++;
        return level;
    }
}
