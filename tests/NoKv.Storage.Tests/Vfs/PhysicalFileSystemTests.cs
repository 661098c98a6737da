using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Vfs;

public sealed class PhysicalFileSystemTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nokv-vfs-" + Guid.NewGuid().ToString("N"));

    public PhysicalFileSystemTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Appends_survive_reopen_and_are_readable_at_offsets()
    {
        IFileSystem fs = PhysicalFileSystem.Instance;
        string path = Path.Combine(_dir, "f");
        byte[] big = new byte[200_000];
        new Random(3).NextBytes(big);
        using (IWritableFile w = fs.CreateWritable(path))
        {
            w.Append([1, 2, 3]);
            w.Append(big);
            Assert.Equal(3 + big.Length, w.Length);
            w.Sync();
        }

        fs.SyncDirectory(_dir);
        using (IWritableFile w = fs.OpenAppendable(path))
        {
            Assert.Equal(3 + big.Length, w.Length);
            w.Append([4]);
        }

        using IRandomAccessFile r = fs.OpenRandomAccess(path);
        Assert.Equal(4 + big.Length, r.Length);
        byte[] buf = new byte[10];
        Assert.Equal(10, r.Read(3 + 1000, buf));
        Assert.Equal(big.AsSpan(1000, 10).ToArray(), buf);
        Assert.Equal(1, r.Read(3 + big.Length, buf));
        Assert.Equal(4, buf[0]);
        Assert.Contains("f", fs.ListFiles(_dir));
    }

    [Fact]
    public void Zero_fill_ahead_keeps_zeros_past_the_appends_without_changing_the_length()
    {
        IFileSystem fs = PhysicalFileSystem.Instance;
        string path = Path.Combine(_dir, "z");
        byte[] data = new byte[5000];
        new Random(4).NextBytes(data);
        const int ahead = 64 << 10;
        using (IWritableFile w = fs.CreateWritable(path))
        {
            w.SetZeroFillAhead(ahead);
            for (int i = 0; i < 40; i++)
            {
                w.Append(data);
                w.Sync();
                Assert.Equal((i + 1) * (long)data.Length, w.Length);
                long onDisk = new FileInfo(path).Length;
                Assert.InRange(onDisk, w.Length + (ahead / 2), w.Length + ahead + 4096);
            }

            w.Append(new byte[200_000]); // a direct write past the buffer keeps the zeros ahead of it too
            w.Flush();
            Assert.True(new FileInfo(path).Length >= w.Length + (ahead / 2));
        }

        byte[] file = File.ReadAllBytes(path);
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal(data, file.AsSpan(i * data.Length, data.Length).ToArray());
        }

        Assert.True(file.AsSpan(40 * data.Length).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void A_long_unsynced_run_takes_its_append_windows_prepared_off_the_write_path()
    {
        // Each mapped window after the first is zero-filled and mapped on another thread while appends fill the one
        // before. Waiting for that preparation after every append (a writer slower than the preparer) must find
        // every later window ready: only the first is mapped by an append itself. The bytes come out exactly, and
        // the prepared zeros past them stay zeros.
        string path = Path.Combine(_dir, "prepared");
        var expected = new MemoryStream();
        var rng = new Random(7);
        var w = (PhysicalWritableFile)PhysicalFileSystem.Instance.CreateWritable(path);
        try
        {
            w.SetZeroFillAhead(64 << 10);
            for (int i = 0; i < 4000; i++)
            {
                byte[] data = new byte[1 + rng.Next(600)];
                rng.NextBytes(data);
                w.Append(data);
                expected.Write(data);
                w.WaitForPreparation();
            }

            w.Flush();
            if (OperatingSystem.IsLinux() && Environment.Is64BitProcess)
            {
                Assert.Equal(1, w.InlineRemaps);
                Assert.True(w.PreparedWindowsTaken >= 10, $"only {w.PreparedWindowsTaken} prepared windows taken");
            }
        }
        finally
        {
            w.Dispose();
        }

        byte[] file = File.ReadAllBytes(path);
        Assert.True(file.Length >= expected.Length);
        Assert.True(file.AsSpan(0, (int)expected.Length).SequenceEqual(expected.ToArray()), "content differs");
        Assert.True(file.AsSpan((int)expected.Length).IndexOfAnyExcept((byte)0) < 0, "tail is not zeros");
    }

    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    public void Appends_with_zero_fill_read_back_exactly_across_mapped_buffered_and_large_writes(int seed)
    {
        // Long unsynced runs switch a zero-filled file to mapped appends, syncs switch it back to buffered
        // pwrites, and appends larger than half the zero fill bypass both: the bytes must come out in order.
        var rng = new Random(seed);
        IFileSystem fs = PhysicalFileSystem.Instance;
        string path = Path.Combine(_dir, "m" + seed);
        var expected = new MemoryStream();
        using (IWritableFile w = fs.CreateWritable(path))
        {
            w.SetZeroFillAhead(128 << 10);
            for (int i = 0; i < 3000; i++)
            {
                int size = rng.Next(50) switch
                {
                    0 => 70_000 + rng.Next(200_000),
                    < 5 => rng.Next(5000),
                    _ => rng.Next(300),
                };
                byte[] data = new byte[size];
                rng.NextBytes(data);
                w.Append(data);
                expected.Write(data);
                Assert.Equal(expected.Length, w.Length);
                int action = rng.Next(200);
                if (action == 0)
                {
                    w.Sync();
                }
                else if (action < 20)
                {
                    w.Flush();
                }
            }

            w.Flush();

            // Readers see the appends at once (they are in the OS, as after a crash of the process).
            byte[] live = File.ReadAllBytes(path);
            Assert.True(live.AsSpan(0, (int)expected.Length).SequenceEqual(expected.ToArray()), $"seed {seed}: live content differs");
            w.Sync();
        }

        byte[] file = File.ReadAllBytes(path);
        Assert.True(file.Length >= expected.Length);
        Assert.True(file.AsSpan(0, (int)expected.Length).SequenceEqual(expected.ToArray()), $"seed {seed}: content differs");
        Assert.True(file.AsSpan((int)expected.Length).IndexOfAnyExcept((byte)0) < 0, $"seed {seed}: tail is not zeros");
    }

    [Fact]
    public void Lock_file_is_exclusive_within_the_process()
    {
        string path = Path.Combine(_dir, "LOCK");
        IDisposable l = PhysicalFileSystem.Instance.LockFile(path);
        var e = Assert.Throws<StorageLockedException>(() => PhysicalFileSystem.Instance.LockFile(path));
        Assert.Equal(Path.GetFullPath(path), e.Path);
        l.Dispose();
        PhysicalFileSystem.Instance.LockFile(path).Dispose();
    }
}
