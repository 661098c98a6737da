using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// Point reads keep a per-thread reference to the current super version; these tests check that such a
/// cached reference never pins an old version (and so its compacted-away tables) nor serves stale data.
/// </summary>
public sealed class SuperVersionCacheTests
{
    private static byte[] K(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D5}");

    private static byte[] V(int i, int version) => System.Text.Encoding.ASCII.GetBytes($"value{i:D5}-v{version}");

    [Fact]
    public void An_idle_reader_thread_does_not_keep_compacted_tables_alive()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/svc", new StorageOptions { FileSystem = fs, MemtableSizeBytes = 64 << 10 });
        for (int i = 0; i < 500; i++)
        {
            db.Put(K(i), V(i, 1));
        }

        db.Flush();
        List<string> before = Tables(fs);
        Assert.NotEmpty(before);

        using var cached = new ManualResetEventSlim();
        using var readAgain = new ManualResetEventSlim();
        byte[]? firstRead = null, secondRead = null;
        var reader = new Thread(() =>
        {
            firstRead = db.Get(K(7));
            cached.Set();
            readAgain.Wait();
            secondRead = db.Get(K(7));
        });
        reader.Start();
        Assert.True(cached.Wait(TimeSpan.FromSeconds(30)), "reader thread did not read");

        for (int i = 0; i < 500; i++)
        {
            db.Put(K(i), V(i, 2));
        }

        // Rewrites every table; the old ones become obsolete and are deleted before CompactRange returns,
        // unless some reference (such as the idle thread's cached one) still holds their version.
        db.CompactRange([], []);
        List<string> after = Tables(fs);
        foreach (string table in before)
        {
            Assert.DoesNotContain(table, after);
        }

        readAgain.Set();
        Assert.True(reader.Join(TimeSpan.FromSeconds(30)), "reader thread did not finish");
        Assert.Equal(V(7, 1), firstRead);
        Assert.Equal(V(7, 2), secondRead);
    }

    [Fact]
    public void Reads_racing_with_flushes_and_compactions_see_every_acknowledged_write()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/svc2", new StorageOptions
        {
            FileSystem = fs,
            MemtableSizeBytes = 16 << 10,
            TargetFileSizeBytes = 8 << 10,
            MaxBytesForLevelBase = 32 << 10,
            Level0CompactionTrigger = 2,
        });
        const int keys = 2000;
        int written = 0;
        int errors = 0;
        var readers = new Thread[2];
        for (int t = 0; t < readers.Length; t++)
        {
            int seed = 77 + t;
            readers[t] = new Thread(() =>
            {
                var random = new Random(seed);
                while (Volatile.Read(ref written) < keys)
                {
                    // Every key below the published count was acknowledged before it was published.
                    int limit = Volatile.Read(ref written);
                    if (limit == 0)
                    {
                        continue;
                    }

                    int i = random.Next(limit);
                    if (db.Get(K(i)) is not { } value || !value.AsSpan().SequenceEqual(V(i, 1)))
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            });
            readers[t].Start();
        }

        for (int i = 0; i < keys; i++)
        {
            db.Put(K(i), V(i, 1));
            Volatile.Write(ref written, i + 1);
        }

        foreach (Thread reader in readers)
        {
            Assert.True(reader.Join(TimeSpan.FromSeconds(60)), "reader thread did not finish");
        }

        Assert.Equal(0, errors);
        Assert.True(db.GetStatistics().Levels.Sum(l => l.FileCount) > 1, "the test should have flushed tables");
    }

    private static List<string> Tables(MemFileSystem fs)
    {
        var tables = new List<string>();
        foreach (string name in fs.ListFiles("/svc"))
        {
            if (name.EndsWith(".sst", StringComparison.Ordinal))
            {
                tables.Add(name);
            }
        }

        return tables;
    }
}
