using NoKv.Storage.Memtable;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Memtable;

/// <summary>
/// Memtable arenas recycled through the database's chunk pool: a recycled chunk holds an older memtable's bytes,
/// and a chunk must never be recycled while a read or iterator can still reach its memtable.
/// </summary>
public sealed class ArenaChunkPoolTests
{
    private static byte[] K(int i) => System.Text.Encoding.ASCII.GetBytes($"key{i:D6}");

    private static byte[] V(int i, int version) => System.Text.Encoding.ASCII.GetBytes($"value{i:D6}-v{version}-" + new string((char)('a' + (version % 26)), 100));

    [Fact]
    public void A_memtable_on_recycled_dirty_chunks_reads_exactly_what_was_written()
    {
        const int chunk = 16 << 10;
        var pool = new ArenaChunkPool(chunk, 8);
        byte[][] dirty = [.. Enumerable.Range(0, 8).Select(_ => pool.Rent())];
        foreach (byte[] c in dirty)
        {
            Array.Fill(c, (byte)0xA5);
            pool.Return(c);
        }

        Assert.Equal(8, pool.FreeChunks);

        var mem = new MemTable(1, 8 * chunk, pool);
        Assert.Equal(chunk, MemTable.ArenaChunkSize(8 * chunk));
        var model = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        var rng = new Random(3);
        for (ulong seq = 1; seq <= 600; seq++)
        {
            int k = rng.Next(300);
            byte[] v = V(k, (int)seq);
            mem.Add(seq, ValueKind.Value, K(k), v);
            model[K(k)] = v;
        }

        Assert.Equal(8, pool.CreatedChunks);
        foreach ((byte[] key, byte[] value) in model)
        {
            Assert.Equal(MemtableGetResult.Found, mem.Get(key, ulong.MaxValue >> 8, out ReadOnlySpan<byte> got, out _));
            Assert.Equal(value, got.ToArray());
        }

        Assert.Equal(MemtableGetResult.NotFound, mem.Get(K(999), ulong.MaxValue >> 8, out _, out _));
        using MemTableIterator it = mem.NewIterator();
        int n = 0;
        var keys = model.Keys.ToList();
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            if (n == 0 || !InternalKey.UserKey(it.Key).SequenceEqual(keys[n - 1]))
            {
                Assert.Equal(keys[n], InternalKey.UserKey(it.Key).ToArray());
                n++;
            }
        }

        Assert.Equal(model.Count, n);
    }

    [Fact]
    public void Released_free_chunks_read_as_zeros_and_still_serve_a_memtable()
    {
        const int chunk = 64 << 10;
        var pool = new ArenaChunkPool(chunk, 4);
        byte[][] dirty = [.. Enumerable.Range(0, 4).Select(_ => pool.Rent())];
        foreach (byte[] c in dirty)
        {
            Array.Fill(c, (byte)0xA5);
            pool.Return(c);
        }

        long released = pool.ReleaseFreeChunkMemory();
        Assert.Equal(released, pool.ReleasedBytes);
        if (OperatingSystem.IsLinux())
        {
            // Every whole page inside each chunk went back to the OS (only its unaligned ends, one page together, keep
            // their bytes), so the chunks now read as zeros there: the proof that the pages were dropped, not just
            // counted.
            int page = Environment.SystemPageSize;
            Assert.True(released >= 4L * (chunk - page), $"released {released} bytes of 4 chunks of {chunk}");
            foreach (byte[] c in dirty)
            {
                int nonZero = c.Count(b => b != 0);
                Assert.True(nonZero <= page, $"{nonZero} bytes of a released chunk kept their contents");
            }
        }
        else
        {
            Assert.Equal(0, released);
        }

        // The chunks stay pooled: a memtable takes them (no new allocation) and reads back exactly what it wrote.
        Assert.Equal(4, pool.FreeChunks);
        var mem = new MemTable(1, 8 * chunk, pool);
        Assert.Equal(chunk, MemTable.ArenaChunkSize(8 * chunk));
        var model = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        var rng = new Random(5);
        for (ulong seq = 1; seq <= 1_000; seq++)
        {
            int k = rng.Next(500);
            byte[] v = V(k, (int)seq);
            mem.Add(seq, ValueKind.Value, K(k), v);
            model[K(k)] = v;
        }

        Assert.Equal(4, pool.CreatedChunks);
        foreach ((byte[] key, byte[] value) in model)
        {
            Assert.Equal(MemtableGetResult.Found, mem.Get(key, ulong.MaxValue >> 8, out ReadOnlySpan<byte> got, out _));
            Assert.Equal(value, got.ToArray());
        }
    }

    [Fact]
    public void The_last_release_returns_the_arena_and_later_reads_fail_loudly()
    {
        var pool = new ArenaChunkPool(16 << 10, 8);
        var mem = new MemTable(1, 128 << 10, pool);
        mem.Add(1, ValueKind.Value, K(1), V(1, 1));
        mem.Ref();
        mem.Unref();
        Assert.Equal(0, pool.FreeChunks);
        mem.Unref();
        Assert.Equal(1, pool.FreeChunks);
        Assert.ThrowsAny<Exception>(() => mem.Get(K(1), 10, out _, out _));
        Assert.Throws<InvalidOperationException>(mem.Unref);
    }

    [Fact]
    public void A_steady_write_load_reuses_the_chunks_of_flushed_memtables()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/arena", new StorageOptions
        {
            FileSystem = fs,
            MemtableSizeBytes = 256 << 10,
            TargetFileSizeBytes = 256 << 10,
            MaxBytesForLevelBase = 4 << 20,
        });

        // About 40 memtables' worth. Without reuse every memtable allocates its own 9 chunks.
        for (int i = 0; i < 80_000; i++)
        {
            db.Put(K(i % 20_000), V(i % 20_000, i / 20_000));
        }

        db.Flush();
        long created = db.ArenaChunks.CreatedChunks;
        long flushes = db.GetStatistics().FlushCount;
        int perMemtable = (256 << 10) / MemTable.ArenaChunkSize(256 << 10);
        Assert.True(flushes >= 30, $"only {flushes} memtables flushed");

        // Without reuse: at least perMemtable chunks per memtable. With it, the pool's bound (every memtable the
        // write buffers may hold, full) and one more memtable's worth for slack.
        Assert.True(
            created <= db.ArenaChunks.MaxChunks + perMemtable + 2,
            $"{created} arena chunks allocated for {flushes} memtables of {perMemtable}+ chunks each ({db.ArenaChunks.DroppedChunks} dropped, {db.ArenaChunks.FreeChunks} free, bound {db.ArenaChunks.MaxChunks})");
        for (int i = 0; i < 20_000; i += 7)
        {
            Assert.Equal(V(i, 3), db.Get(K(i)));
        }
    }

    [Fact]
    public void An_iterator_keeps_its_memtables_arena_from_being_recycled()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/arena", new StorageOptions
        {
            FileSystem = fs,
            MemtableSizeBytes = 64 << 10,
            TargetFileSizeBytes = 64 << 10,
            MaxBytesForLevelBase = 1 << 20,
        });
        for (int i = 0; i < 300; i++)
        {
            db.Put(K(i), V(i, 1));
        }

        // Positioned in the mutable memtable, which is then frozen, flushed and followed by many more memtables
        // that would take its chunks if they were released early.
        using StorageIterator it = db.NewIterator();
        it.SeekToFirst();
        for (int i = 0; i < 20_000; i++)
        {
            db.Put(K(1000 + (i % 5000)), V(i, 2));
        }

        db.Flush();
        int n = 0;
        for (; it.Valid; it.Next(), n++)
        {
            Assert.Equal(K(n), it.Key.ToArray());
            Assert.Equal(V(n, 1), it.Value.ToArray());
        }

        Assert.Equal(300, n);
    }

    [Fact]
    public void Memtables_replayed_at_open_give_their_chunks_to_the_pool()
    {
        var fs = new MemFileSystem();
        var options = new StorageOptions
        {
            FileSystem = fs,
            MemtableSizeBytes = 256 << 10,
            TargetFileSizeBytes = 256 << 10,
            MaxBytesForLevelBase = 4 << 20,
        };
        var model = new Dictionary<int, byte[]>();
        MemFileSystem crashed;
        using (Database db = Database.Open("/replay", options))
        {
            // Under one memtable, so it stays in the log, which the crash keeps because the last write is synced.
            for (int i = 0; i < 1_500; i++)
            {
                model[i % 1_000] = V(i % 1_000, i / 1_000);
                db.Put(K(i % 1_000), model[i % 1_000], i == 1_499 ? WriteOptions.Synced : WriteOptions.Default);
            }

            crashed = fs.CrashClone();
        }

        using Database reopened = Database.Open("/replay", new StorageOptions
        {
            FileSystem = crashed,
            MemtableSizeBytes = options.MemtableSizeBytes,
            TargetFileSizeBytes = options.TargetFileSizeBytes,
            MaxBytesForLevelBase = options.MaxBytesForLevelBase,
        });

        // The replay filled several chunks; once its table was written they went back to the pool, and the new
        // memtable took its first chunk from there rather than allocating one.
        ArenaChunkPool pool = reopened.ArenaChunks;
        Assert.True(pool.CreatedChunks >= 4, $"the replay used only {pool.CreatedChunks} chunks");
        Assert.Equal(pool.CreatedChunks - 1, pool.FreeChunks);

        // And their memory went back to the OS (Linux): an open that only reads afterwards holds none of it.
        Assert.Equal(OperatingSystem.IsLinux(), pool.ReleasedBytes > 0);
        foreach ((int i, byte[] value) in model)
        {
            Assert.Equal(value, reopened.Get(K(i)));
        }
    }
}
