using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Vfs;

public sealed class MemFileSystemTests
{
    private const string Dir = "/db";

    [Fact]
    public void CrashClone_keeps_only_synced_bytes_of_synced_names()
    {
        var fs = new MemFileSystem();
        fs.CreateDirectory(Dir);
        using (IWritableFile f = fs.CreateWritable("/db/a"))
        {
            f.Append([1, 2, 3]);
            f.Sync();
            f.Append([4, 5]);
        }

        fs.SyncDirectory(Dir);
        using (IWritableFile g = fs.CreateWritable("/db/b"))
        {
            g.Append([9]);
            g.Sync();
        }

        MemFileSystem crashed = fs.CrashClone();
        Assert.Equal([1, 2, 3], crashed.ReadAllBytes("/db/a"));
        Assert.False(crashed.FileExists("/db/b"));
        Assert.Equal([1, 2, 3, 4, 5], fs.ReadAllBytes("/db/a"));
    }

    [Fact]
    public void Rename_and_delete_are_lost_without_directory_sync()
    {
        var fs = new MemFileSystem();
        fs.CreateDirectory(Dir);
        using (IWritableFile f = fs.CreateWritable("/db/old"))
        {
            f.Append([7]);
            f.Sync();
        }

        fs.SyncDirectory(Dir);
        fs.RenameFile("/db/old", "/db/new");
        MemFileSystem crashed = fs.CrashClone();
        Assert.True(crashed.FileExists("/db/old"));
        Assert.False(crashed.FileExists("/db/new"));

        fs.SyncDirectory(Dir);
        crashed = fs.CrashClone();
        Assert.False(crashed.FileExists("/db/old"));
        Assert.Equal([7], crashed.ReadAllBytes("/db/new"));

        fs.DeleteFile("/db/new");
        Assert.True(fs.CrashClone().FileExists("/db/new"));
    }

    [Fact]
    public void CrashClone_with_random_keeps_a_prefix_of_the_unsynced_tail()
    {
        var fs = new MemFileSystem();
        fs.CreateDirectory(Dir);
        using IWritableFile f = fs.CreateWritable("/db/a");
        f.Append([1, 2]);
        f.Sync();
        f.Append([3, 4, 5, 6]);
        fs.SyncDirectory(Dir);
        var lengths = new HashSet<int>();
        var rng = new Random(11);
        for (int i = 0; i < 50; i++)
        {
            byte[] got = fs.CrashClone(rng).ReadAllBytes("/db/a");
            Assert.True(got.Length >= 2 && got.Length <= 6);
            Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }.AsSpan(0, got.Length).ToArray(), got);
            lengths.Add(got.Length);
        }

        Assert.True(lengths.Count > 1);
    }

    [Fact]
    public void Second_lock_fails_until_released()
    {
        var fs = new MemFileSystem();
        fs.CreateDirectory(Dir);
        IDisposable l = fs.LockFile("/db/LOCK");
        Assert.Throws<StorageLockedException>(() => fs.LockFile("/db/LOCK"));
        l.Dispose();
        fs.LockFile("/db/LOCK").Dispose();
    }
}
