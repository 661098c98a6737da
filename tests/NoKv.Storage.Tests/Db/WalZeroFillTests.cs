using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// The WAL file is filled with zeros ahead of its appends (so a synced write does not grow the file); recovery
/// must read the zero tail as the end of the log and lose no synced write.
/// </summary>
public sealed class WalZeroFillTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nokv-walzero-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        foreach (string d in new[] { _dir, _dir + "-copy" })
        {
            if (Directory.Exists(d))
            {
                Directory.Delete(d, recursive: true);
            }
        }
    }

    private static byte[] Key(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D6}");

    private static byte[] Value(int i) => System.Text.Encoding.ASCII.GetBytes($"value-{i}-" + new string('v', i % 90));

    private static string SingleLog(IEnumerable<string> names, string dir) =>
        Path.Combine(dir, names.Single(n => n.EndsWith(".log", StringComparison.Ordinal)));

    [Fact]
    public void Power_loss_leaves_a_zero_tail_that_recovery_reads_as_the_end_of_the_log()
    {
        var fs = new MemFileSystem();
        const string dir = "/zf";
        MemFileSystem crashed;
        using (Database db = Database.Open(dir, new StorageOptions { FileSystem = fs }))
        {
            for (int i = 0; i < 500; i++)
            {
                db.Put(Key(i), Value(i), i % 10 == 9 ? WriteOptions.Synced : WriteOptions.Default);
            }

            crashed = fs.CrashClone();
        }

        string log = SingleLog(crashed.ListFiles(dir), dir);
        byte[] bytes = crashed.ReadAllBytes(log);
        Assert.True(bytes.Length > 1 << 19, "the synced zero tail should survive the crash");
        Assert.True(bytes.AsSpan(bytes.Length - (1 << 19)).IndexOfAnyExcept((byte)0) < 0);

        using (Database db = Database.Open(dir, new StorageOptions { FileSystem = crashed }))
        {
            for (int i = 0; i < 500; i++)
            {
                Assert.Equal(Value(i), db.Get(Key(i)));
            }

            db.Put(Key(1000), Value(1000), WriteOptions.Synced);
        }

        using (Database db = Database.Open(dir, new StorageOptions { FileSystem = crashed }))
        {
            Assert.Equal(Value(1000), db.Get(Key(1000)));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Copy_of_a_live_database_on_disk_reopens_with_every_write(bool synced)
    {
        // Copying the files of an open database is what a crash of the process leaves on disk: the log with its
        // records (synced ones appended with pwrite; a long unsynced run stored through the log's memory
        // mapping, which must be as visible to readers as a write) and the zeros written ahead of them.
        int writes = synced ? 2000 : 20_000;
        using (Database db = Database.Open(_dir))
        {
            for (int i = 0; i < writes; i++)
            {
                db.Put(Key(i), Value(i), synced ? WriteOptions.Synced : WriteOptions.Default);
            }

            Directory.CreateDirectory(_dir + "-copy");
            foreach (string file in Directory.GetFiles(_dir))
            {
                if (Path.GetFileName(file) == "LOCK")
                {
                    continue; // held open by the live database; its content does not matter
                }

                File.Copy(file, Path.Combine(_dir + "-copy", Path.GetFileName(file)));
            }
        }

        string log = SingleLog(Directory.GetFiles(_dir + "-copy").Select(Path.GetFileName)!, _dir + "-copy");
        if (synced)
        {
            // A pwrite-appended log keeps at least half the zero fill ahead (a mapped one refills only when its
            // mapping is full).
            byte[] bytes = File.ReadAllBytes(log);
            Assert.True(bytes.Length > 1 << 19);
            Assert.True(bytes.AsSpan(bytes.Length - (1 << 19)).IndexOfAnyExcept((byte)0) < 0, "the log should end in zeros written ahead");
        }

        using (Database db = Database.Open(_dir + "-copy"))
        {
            for (int i = 0; i < writes; i++)
            {
                Assert.Equal(Value(i), db.Get(Key(i)));
            }
        }
    }

    [Fact]
    public void Copy_of_a_live_database_with_a_lost_page_in_its_mapped_unsynced_tail_reopens_with_a_prefix()
    {
        // A long unsynced run goes through the log's shared mapping; a power loss can write back a later mapped page
        // and lose an earlier one. Model it on the real file: copy the files of the open database, zero one page.
        const int writes = 20_000;
        using (Database db = Database.Open(_dir))
        {
            db.Put(Key(0), Value(0), WriteOptions.Synced);
            for (int i = 1; i < writes; i++)
            {
                db.Put(Key(i), Value(i));
            }

            Directory.CreateDirectory(_dir + "-copy");
            foreach (string file in Directory.GetFiles(_dir))
            {
                if (Path.GetFileName(file) != "LOCK")
                {
                    File.Copy(file, Path.Combine(_dir + "-copy", Path.GetFileName(file)));
                }
            }
        }

        string log = SingleLog(Directory.GetFiles(_dir + "-copy").Select(Path.GetFileName)!, _dir + "-copy");
        byte[] bytes = File.ReadAllBytes(log);
        int end = bytes.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
        int hole = end / 2 / 32768 * 32768 + 8192;
        Assert.True(hole + 4096 + 32768 < end, $"log holds {end} bytes");
        using (FileStream f = new(log, FileMode.Open, FileAccess.Write))
        {
            f.Position = hole;
            f.Write(new byte[4096]);
        }

        using (Database db = Database.Open(_dir + "-copy"))
        {
            WalRecoveryReport report = db.GetStatistics().WalRecovery;
            Assert.Equal(log, report.DamagedLog);
            Assert.True(report.IntactDataAfterDamage, report.ToString());
            int present = 0;
            while (present < writes && db.Get(Key(present)) is { } v)
            {
                Assert.Equal(Value(present), v);
                present++;
            }

            Assert.InRange(present, 1, writes - 1);
            for (int i = present; i < writes; i += 97)
            {
                Assert.Null(db.Get(Key(i)));
            }
        }
    }
}
