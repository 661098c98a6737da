using NoKv.Raft.Messages;
using NoKv.Raft.Snapshots;

namespace NoKv.Replica.Snapshots;

/// <summary>
/// The directory where a store stages Raft snapshots (docs/replica.md, "Snapshots"): a leader's export for a follower
/// and a follower's chunks as they arrive, so neither holds a shard-sized array. Every file belongs to one payload or
/// sink and is deleted with it (installed, superseded, dropped); files a crash left behind are deleted by
/// <see cref="Clean"/> at start-up, before any replica opens.
/// </summary>
internal sealed class SnapshotStaging(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>Creates <paramref name="directory"/> if needed and deletes every file in it (left by an earlier run).</summary>
    public static void Clean(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        foreach (var file in System.IO.Directory.EnumerateFiles(directory))
        {
            DeleteQuietly(file);
        }
    }

    /// <summary>A new file name for <paramref name="kind"/> ("export", "receive") of a snapshot of <paramref name="shard"/>.</summary>
    public string NewPath(string shard, string kind, ulong index, ulong term) =>
        Path.Combine(Directory, $"{shard}-{index}-{term}-{kind}-{Guid.NewGuid():N}.snap");

    /// <summary>A sink for a snapshot arriving at the replica named <paramref name="shard"/>.</summary>
    public SnapshotSink CreateSink(string shard, SnapshotMetadata metadata) =>
        new FileSnapshotSink(NewPath(shard, "receive", metadata.Index, metadata.Term));

    /// <summary>
    /// Deletes a staging file; a failure is ignored (the file is removed at the next start-up), since it must not fail
    /// the replica that no longer needs it.
    /// </summary>
    public static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
