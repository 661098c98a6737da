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

    private static MemFileSystem WithUnsyncedPages(out byte[] written, int synced)
    {
        var fs = new MemFileSystem();
        fs.CreateDirectory(Dir);
        written = new byte[64 * 1024];
        new Random(1).NextBytes(written);
        using (IWritableFile f = fs.CreateWritable("/db/log"))
        {
            f.Append(written.AsSpan(0, synced));
            f.Sync();
            f.Append(written.AsSpan(synced));
        }

        fs.SyncDirectory(Dir);
        return fs;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public void PowerLossClone_keeps_synced_bytes_and_any_subset_of_unsynced_pages(int seed, bool staleGarbage)
    {
        const int synced = 10_000;
        MemFileSystem fs = WithUnsyncedPages(out byte[] written, synced);
        bool laterPageKeptAfterLostOne = false;
        for (int run = 0; run < 20; run++)
        {
            byte[] after = fs.PowerLossClone(new Random((seed * 100) + run), staleGarbage).ReadAllBytes("/db/log");
            Assert.True(after.Length >= synced && after.Length <= written.Length);
            Assert.True(after.AsSpan(0, synced).SequenceEqual(written.AsSpan(0, synced)), $"seed {seed} run {run}: synced bytes changed");
            bool lost = false;
            for (int page = synced / 4096; page * 4096 < after.Length; page++)
            {
                int from = Math.Max(page * 4096, synced);
                int to = Math.Min((page + 1) * 4096, after.Length);
                bool intact = after.AsSpan(from, to - from).SequenceEqual(written.AsSpan(from, to - from));
                laterPageKeptAfterLostOne |= lost && intact;
                lost |= !intact;
                if (!staleGarbage)
                {
                    // Each byte is the written one or a zero: pages hold earlier versions, never invented data.
                    for (int i = from; i < to; i++)
                    {
                        Assert.True(after[i] == written[i] || after[i] == 0, $"seed {seed} run {run}: byte {i}");
                    }
                }
            }
        }

        Assert.True(laterPageKeptAfterLostOne, "no power loss kept a page after a lost one");
    }

    [Fact]
    public void PowerLossClone_is_deterministic_for_a_seed()
    {
        MemFileSystem fs = WithUnsyncedPages(out _, 5000);
        Assert.Equal(fs.PowerLossClone(new Random(7), true).ReadAllBytes("/db/log"), fs.PowerLossClone(new Random(7), true).ReadAllBytes("/db/log"));
    }
}
