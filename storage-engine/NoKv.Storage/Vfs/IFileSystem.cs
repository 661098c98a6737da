namespace NoKv.Storage.Vfs;

/// <summary>
/// Every byte the engine reads or writes goes through this interface, so tests can substitute an
/// in-memory file system that forgets unsynced data on a simulated crash, or one that injects faults.
/// </summary>
/// <remarks>
/// Paths are full paths as produced by <see cref="System.IO.Path.Combine(string, string)"/>.
/// Durability contract: data appended to a file is durable only after <see cref="IWritableFile.Sync"/>;
/// a file's existence and name (create, rename, delete) are durable only after
/// <see cref="SyncDirectory"/> on its parent directory.
/// Implementations must be safe for concurrent calls on different files.
/// </remarks>
public interface IFileSystem
{
    /// <summary>Creates (or truncates) a file for appending.</summary>
    IWritableFile CreateWritable(string path);

    /// <summary>Opens an existing file for appending at its current end.</summary>
    IWritableFile OpenAppendable(string path);

    /// <summary>Opens an existing file for positional reads; the handle is safe for concurrent reads.</summary>
    IRandomAccessFile OpenRandomAccess(string path);

    /// <summary>Opens an existing file for one forward pass (log and manifest replay).</summary>
    Stream OpenSequential(string path);

    bool FileExists(string path);

    bool DirectoryExists(string path);

    long GetFileLength(string path);

    void DeleteFile(string path);

    /// <summary>Atomically replaces <paramref name="destination"/> with <paramref name="source"/>.</summary>
    void RenameFile(string source, string destination);

    void CreateDirectory(string path);

    /// <summary>Names (not paths) of the files directly inside <paramref name="directory"/>.</summary>
    IReadOnlyList<string> ListFiles(string directory);

    /// <summary>Makes creations, renames and deletions inside the directory durable.</summary>
    void SyncDirectory(string directory);

    /// <summary>
    /// Takes an exclusive, process-wide lock on <paramref name="path"/> (created if missing). Fails with an
    /// <see cref="IOException"/> if another process or another open database holds it. Disposing releases it.
    /// </summary>
    IDisposable LockFile(string path);
}
