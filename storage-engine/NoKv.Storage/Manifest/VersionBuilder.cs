namespace NoKv.Storage.Manifest;

/// <summary>Applies a series of edits to a base version and produces the resulting file sets. Not thread-safe.</summary>
internal sealed class VersionBuilder
{
    private readonly Dictionary<ulong, (int Level, FileMetaData File)> _files = [];
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
    }

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
