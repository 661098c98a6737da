using NoKv.Storage.ValueLog;

namespace NoKv.Storage.Manifest;

/// <summary>Applies a series of edits to a base version and produces the resulting file sets. Not thread-safe.</summary>
internal sealed class VersionBuilder
{
    private readonly Dictionary<ulong, (int Level, FileMetaData File)> _files = [];
    private readonly Dictionary<ulong, ValueFileMeta> _valueFiles = [];
    private readonly int _numLevels;

    public VersionBuilder(Version? baseVersion, int numLevels)
    {
        _numLevels = numLevels;
        if (baseVersion is null)
        {
            return;
        }

        for (int level = 0; level < baseVersion.NumLevels; level++)
        {
            foreach (FileMetaData f in baseVersion.Files[level])
            {
                _files[f.Number] = (level, f);
            }
        }

        foreach (ValueFileMeta v in baseVersion.ValueFiles)
        {
            _valueFiles[v.Number] = v;
        }
    }

    public void Apply(VersionEdit edit)
    {
        foreach ((int level, ulong number) in edit.DeletedFiles)
        {
            if (_files.TryGetValue(number, out var existing) && existing.Level == level)
            {
                _files.Remove(number);
            }
        }

        foreach ((int level, FileMetaData file) in edit.NewFiles)
        {
            _files[file.Number] = (level, file);
        }

        foreach (ulong number in edit.DeletedValueFiles)
        {
            _valueFiles.Remove(number);
        }

        foreach (ValueFileMeta v in edit.NewValueFiles)
        {
            _valueFiles[v.Number] = v;
        }

        foreach ((ulong number, (long count, long bytes)) in edit.ValueFileGarbage)
        {
            if (_valueFiles.TryGetValue(number, out ValueFileMeta? v))
            {
                v.AddGarbage(count, bytes);
            }
        }
    }

    /// <summary>
    /// The value files the tables of <paramref name="levels"/> point into, ascending; the ones the manifest state
    /// lists but no table references go to <paramref name="unreferenced"/> (they are dropped from the state).
    /// </summary>
    /// <exception cref="CorruptionException">A table points into a value file the state does not list.</exception>
    public ValueFileMeta[] BuildValueFiles(FileMetaData[][] levels, List<ValueFileMeta> unreferenced, string manifestPath)
    {
        if (_valueFiles.Count == 0)
        {
            foreach (FileMetaData[] level in levels)
            {
                foreach (FileMetaData f in level)
                {
                    if (f.ValueFiles.Length > 0)
                    {
                        throw MissingValueFile(f, f.ValueFiles[0], manifestPath);
                    }
                }
            }

            return [];
        }

        var used = new HashSet<ulong>();
        foreach (FileMetaData[] level in levels)
        {
            foreach (FileMetaData f in level)
            {
                foreach (ulong number in f.ValueFiles)
                {
                    if (!_valueFiles.ContainsKey(number))
                    {
                        throw MissingValueFile(f, number, manifestPath);
                    }

                    used.Add(number);
                }
            }
        }

        var live = new List<ValueFileMeta>(used.Count);
        foreach (ValueFileMeta v in _valueFiles.Values)
        {
            if (used.Contains(v.Number))
            {
                live.Add(v);
            }
            else
            {
                unreferenced.Add(v);
            }
        }

        foreach (ValueFileMeta v in unreferenced)
        {
            _valueFiles.Remove(v.Number);
        }

        live.Sort(static (a, b) => a.Number.CompareTo(b.Number));
        return [.. live];
    }

    private static CorruptionException MissingValueFile(FileMetaData f, ulong number, string manifestPath) =>
        new(manifestPath, 0, $"Table {f.Number} points into value file {number}, which the manifest does not list.");

    public FileMetaData[][] Build()
    {
        var levels = new List<FileMetaData>[_numLevels];
        for (int i = 0; i < _numLevels; i++)
        {
            levels[i] = [];
        }

        foreach ((int level, FileMetaData file) in _files.Values)
        {
            levels[level].Add(file);
        }

        levels[0].Sort(static (a, b) =>
        {
            int c = b.LargestSequence.CompareTo(a.LargestSequence);
            return c != 0 ? c : b.Number.CompareTo(a.Number);
        });
        for (int i = 1; i < _numLevels; i++)
        {
            levels[i].Sort(static (a, b) => InternalKey.Compare(a.Smallest, b.Smallest));
        }

        var result = new FileMetaData[_numLevels][];
        for (int i = 0; i < _numLevels; i++)
        {
            result[i] = [.. levels[i]];
        }

        return result;
    }
}
