namespace NoKv.Storage.Vfs;

/// <summary>
/// An in-memory file system that models what survives a power loss, for crash tests.
/// </summary>
/// <remarks>
/// Each directory keeps two name tables: the live one (what ListFiles and opens see) and the durable one,
/// copied from the live one by <see cref="SyncDirectory"/>. Each file keeps how many of its bytes a Sync
/// made durable. <see cref="CrashClone()"/> builds the file system a machine would find after power loss:
/// only durable names, each file cut back to its synced length; so a created or renamed file whose directory
/// was not synced is gone (or back under its old name), and a deleted one comes back.
/// Directories themselves are durable as soon as they are created (the engine creates its directory once).
/// Thread-safe.
/// </remarks>
public sealed class MemFileSystem : IFileSystem
{
    private readonly Lock _gate = new();

    // Guards the contents of every file (see MemFile); taken after _gate, never before it.
    private readonly object _contents = new();
    private readonly Dictionary<string, MemDirectory> _directories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _locks = new(StringComparer.Ordinal);

    public IWritableFile CreateWritable(string path)
    {
        var file = new MemFile(_contents);
        lock (_gate)
        {
            GetDirectory(path, out string name).Live[name] = file;
        }

        return new MemWritableFile(path, file);
    }

    public IWritableFile OpenAppendable(string path) => new MemWritableFile(path, GetFile(path));

    public IRandomAccessFile OpenRandomAccess(string path) => new MemRandomAccessFile(path, GetFile(path));

    public Stream OpenSequential(string path) => new MemoryStream(GetFile(path).ToArray(), writable: false);

    public bool FileExists(string path)
    {
        lock (_gate)
        {
            return TryGetDirectory(path, out MemDirectory? dir, out string name) && dir.Live.ContainsKey(name);
        }
    }

    public bool DirectoryExists(string path)
    {
        lock (_gate)
        {
            return _directories.ContainsKey(Normalize(path));
        }
    }

    public long GetFileLength(string path) => GetFile(path).Length;

    public void DeleteFile(string path)
    {
        lock (_gate)
        {
            if (TryGetDirectory(path, out MemDirectory? dir, out string name))
            {
                dir.Live.Remove(name);
            }
        }
    }

    public void RenameFile(string source, string destination)
    {
        lock (_gate)
        {
            MemDirectory from = GetDirectory(source, out string fromName);
            if (!from.Live.Remove(fromName, out MemFile? file))
            {
                throw new FileNotFoundException($"No such file: '{source}'.", source);
            }

            GetDirectory(destination, out string toName).Live[toName] = file;
        }
    }

    public void CreateDirectory(string path)
    {
        lock (_gate)
        {
            string dir = Normalize(path);
            while (!string.IsNullOrEmpty(dir) && !_directories.ContainsKey(dir))
            {
                _directories[dir] = new MemDirectory();
                dir = Normalize(Path.GetDirectoryName(dir) ?? string.Empty);
            }
        }
    }

    public IReadOnlyList<string> ListFiles(string directory)
    {
        lock (_gate)
        {
            if (!_directories.TryGetValue(Normalize(directory), out MemDirectory? dir))
            {
                throw new DirectoryNotFoundException($"No such directory: '{directory}'.");
            }

            return [.. dir.Live.Keys];
        }
    }

    public void SyncDirectory(string directory)
    {
        lock (_gate)
        {
            if (!_directories.TryGetValue(Normalize(directory), out MemDirectory? dir))
            {
                throw new DirectoryNotFoundException($"No such directory: '{directory}'.");
            }

            dir.Durable.Clear();
            foreach (KeyValuePair<string, MemFile> kv in dir.Live)
            {
                dir.Durable[kv.Key] = kv.Value;
            }
        }
    }

    public IDisposable LockFile(string path)
    {
        lock (_gate)
        {
            if (!_locks.Add(path))
            {
                throw new StorageLockedException(path);
            }

            if (TryGetDirectory(path, out MemDirectory? dir, out string name) && !dir.Live.ContainsKey(name))
            {
                dir.Live[name] = new MemFile(_contents);
            }
        }

        return new MemFileLock(this, path);
    }

    /// <summary>The file system as it would be found after a power loss now: only synced data and names.</summary>
    public MemFileSystem CrashClone() => CrashClone(null);

    /// <summary>
    /// Like <see cref="CrashClone()"/>, but each file also keeps a random prefix (possibly all, possibly none)
    /// of its unsynced tail, as a disk that wrote some pages before the power went would.
    /// </summary>
    public MemFileSystem CrashClone(Random? keepUnsyncedPrefix)
    {
        var clone = new MemFileSystem();
        lock (_gate)
        lock (_contents)
        {
            foreach (KeyValuePair<string, MemDirectory> d in _directories)
            {
                var copy = new MemDirectory();
                foreach (KeyValuePair<string, MemFile> f in d.Value.Durable)
                {
                    int extra = keepUnsyncedPrefix is null ? 0 : keepUnsyncedPrefix.Next(f.Value.UnsyncedBytes + 1);
                    MemFile survived = f.Value.CrashCopy(extra, clone._contents);
                    copy.Live[f.Key] = survived;
                    copy.Durable[f.Key] = survived;
                }

                clone._directories[d.Key] = copy;
            }
        }

        return clone;
    }

    /// <summary>
    /// The file system as a machine would find it after a power loss that kept an arbitrary subset of the
    /// unsynced pages (<see cref="MemFile.PowerLossCopy"/>): the page cache writes pages back in any order, so a
    /// later page of an unsynced append can survive while an earlier one is lost. Only durable names survive.
    /// Deterministic for a given <paramref name="rng"/> state.
    /// </summary>
    public MemFileSystem PowerLossClone(Random rng, bool staleGarbage = false)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var clone = new MemFileSystem();
        lock (_gate)
        lock (_contents)
        {
            foreach (KeyValuePair<string, MemDirectory> d in _directories)
            {
                var copy = new MemDirectory();
                // In name order, so the same file system and seed give the same image.
                var names = new List<string>(d.Value.Durable.Keys);
                names.Sort(StringComparer.Ordinal);
                foreach (string name in names)
                {
                    KeyValuePair<string, MemFile> f = new(name, d.Value.Durable[name]);
                    MemFile survived = f.Value.PowerLossCopy(rng, staleGarbage, clone._contents);
                    copy.Live[f.Key] = survived;
                    copy.Durable[f.Key] = survived;
                }

                clone._directories[d.Key] = copy;
            }
        }

        return clone;
    }

    /// <summary>Test hook: overwrites bytes of an existing file in place (simulates media corruption).</summary>
    public void CorruptFile(string path, long offset, ReadOnlySpan<byte> data) => GetFile(path).Overwrite(offset, data);

    /// <summary>Test hook: the current bytes of a file.</summary>
    public byte[] ReadAllBytes(string path) => GetFile(path).ToArray();

    internal void ReleaseLock(string path)
    {
        lock (_gate)
        {
            _locks.Remove(path);
        }
    }

    private MemFile GetFile(string path)
    {
        lock (_gate)
        {
            if (TryGetDirectory(path, out MemDirectory? dir, out string name) && dir.Live.TryGetValue(name, out MemFile? file))
            {
                return file;
            }
        }

        throw new FileNotFoundException($"No such file: '{path}'.", path);
    }

    private MemDirectory GetDirectory(string filePath, out string name)
    {
        if (!TryGetDirectory(filePath, out MemDirectory? dir, out name))
        {
            throw new DirectoryNotFoundException($"No directory for '{filePath}'.");
        }

        return dir;
    }

    private bool TryGetDirectory(string filePath, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MemDirectory? dir, out string name)
    {
        name = Path.GetFileName(filePath);
        return _directories.TryGetValue(Normalize(Path.GetDirectoryName(filePath) ?? string.Empty), out dir);
    }

    private static string Normalize(string dir) => dir.Length > 1 ? dir.TrimEnd('/', '\\') : dir;
}
