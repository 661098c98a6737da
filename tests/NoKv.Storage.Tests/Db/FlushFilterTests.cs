using System.Buffers.Binary;
using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// A flush leaves out the memtable versions no reader can see (covered by a newer range tombstone of the same
/// memtable, or overwritten in it, with no open snapshot in between), and keeps everything else. The tests read
/// the flushed table itself, not only the database, so a version that is merely hidden at read time fails them.
/// </summary>
public sealed class FlushFilterTests
{
    private const string Dir = "/f";

    // Raft-log-like keys: a shared 10-byte head, then an 8-byte big-endian index.
    private static byte[] Log(long index)
    {
        var key = new byte[18];
        key[0] = 0x01;
        key[9] = 0x01;
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(10), index);
        return key;
    }

    private static byte[] Value(long index, int round = 0) => System.Text.Encoding.ASCII.GetBytes($"value-{index}-{round}");

    private static StorageOptions Options(MemFileSystem fs) => new()
    {
        FileSystem = fs,
        MemtableSizeBytes = 64 << 20,
    };

    /// <summary>Every (user key, sequence, kind) in the database's table files, in table order.</summary>
    private static List<(byte[] Key, ulong Sequence, ValueKind Kind, byte[] Value)> TableEntries(MemFileSystem fs)
    {
        var result = new List<(byte[], ulong, ValueKind, byte[])>();
        var options = new TableOptions { Comparer = InternalKeyComparer.Instance };
        foreach (string name in fs.ListFiles(Dir).Where(n => n.EndsWith(".sst", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            long number = long.Parse(name[..^4], System.Globalization.CultureInfo.InvariantCulture);
            using TableReader table = TableReader.Open(fs.OpenRandomAccess($"{Dir}/{name}"), number, options, null);
            using IInternalIterator it = table.NewIterator();
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                result.Add((InternalKey.UserKey(it.Key).ToArray(), InternalKey.SequenceOf(it.Key), InternalKey.KindOf(it.Key), it.Value.ToArray()));
            }
        }

        return result;
    }

    private static int TableFileCount(MemFileSystem fs) => fs.ListFiles(Dir).Count(n => n.EndsWith(".sst", StringComparison.Ordinal));

    [Fact]
    public void Entries_covered_by_a_newer_range_tombstone_of_the_memtable_are_not_written()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            for (long i = 0; i < 300; i++)
            {
                db.Put(Log(i), Value(i));
            }

            db.DeleteRange(Log(0), Log(100));
            db.DeleteRange(Log(0), Log(200));
            db.Flush();

            List<(byte[] Key, ulong Sequence, ValueKind Kind, byte[] Value)> entries = TableEntries(fs);
            Assert.Equal(Enumerable.Range(200, 100).Select(i => Log(i)), entries.Select(e => e.Key));
            Assert.Equal(200, db.GetStatistics().FlushEntriesDropped);

            // The tombstones still travel with the table: they may cover older data below.
            Assert.Null(db.Get(Log(150)));
            Assert.Equal(Value(250), db.Get(Log(250)));
        }

        using (Database db = Database.Open(Dir, Options(fs)))
        {
            Assert.Null(db.Get(Log(0)));
            Assert.Null(db.Get(Log(199)));
            Assert.Equal(Value(200), db.Get(Log(200)));
            using StorageIterator it = db.NewIterator();
            it.SeekToFirst();
            Assert.Equal(Log(200), it.Key.ToArray());
        }
    }

    [Fact]
    public void Range_tombstones_still_hide_older_data_of_lower_levels_after_the_flush()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open(Dir, Options(fs));
        for (long i = 0; i < 100; i++)
        {
            db.Put(Log(i), Value(i));
        }

        db.Flush();
        for (long i = 100; i < 200; i++)
        {
            db.Put(Log(i), Value(i));
        }

        db.DeleteRange(Log(0), Log(150));
        db.Flush();

        Assert.Equal(50, db.GetStatistics().FlushEntriesDropped);
        for (long i = 0; i < 200; i += 7)
        {
            Assert.Equal(i >= 150 ? Value(i) : null, db.Get(Log(i)));
        }

        db.CompactRange([], []);
        Assert.Equal(Enumerable.Range(150, 50).Select(i => Log(i)), TableEntries(fs).Select(e => e.Key));
    }

    [Fact]
    public void Entries_an_open_snapshot_sees_survive_the_flush()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open(Dir, Options(fs));
        for (long i = 0; i < 50; i++)
        {
            db.Put(Log(i), Value(i));
        }

        using Snapshot snap = db.GetSnapshot();
        for (long i = 50; i < 100; i++)
        {
            db.Put(Log(i), Value(i));
        }

        // Covers 0..99: 0..49 are older than the snapshot (it sees them), 50..99 are newer (nobody does).
        db.DeleteRange(Log(0), Log(100));
        db.Put(Log(7), Value(7, round: 1));
        db.Flush();

        List<(byte[] Key, ulong Sequence, ValueKind Kind, byte[] Value)> entries = TableEntries(fs);
        Assert.Equal(51, entries.Count);
        Assert.Equal(50, db.GetStatistics().FlushEntriesDropped);
        for (long i = 0; i < 50; i++)
        {
            Assert.Equal(Value(i), db.Get(Log(i), new ReadOptions { Snapshot = snap }));
        }

        Assert.Null(db.Get(Log(60), new ReadOptions { Snapshot = snap }));
        Assert.Null(db.Get(Log(3)));
        Assert.Null(db.Get(Log(60)));

        // Written after the tombstone: not covered, and the newest version of its key.
        Assert.Equal(Value(7, round: 1), db.Get(Log(7)));
        Assert.Equal(Value(7), db.Get(Log(7), new ReadOptions { Snapshot = snap }));
    }

    [Fact]
    public void Overwritten_versions_are_dropped_unless_a_snapshot_separates_them()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open(Dir, Options(fs));
        byte[] hardState = Log(-1);
        for (int round = 0; round < 100; round++)
        {
            db.Put(hardState, Value(0, round));
        }

        using Snapshot snap = db.GetSnapshot();
        for (int round = 100; round < 200; round++)
        {
            db.Put(hardState, Value(0, round));
        }

        db.Delete(Log(5));
        db.Put(Log(5), Value(5, round: 1));
        db.Delete(Log(6));
        db.Flush();

        List<(byte[] Key, ulong Sequence, ValueKind Kind, byte[] Value)> entries = TableEntries(fs);
        Assert.Equal([Value(0, 199), Value(0, 99)], entries.Where(e => e.Key.AsSpan().SequenceEqual(hardState)).Select(e => e.Value));
        Assert.Equal([ValueKind.Value], entries.Where(e => e.Key.AsSpan().SequenceEqual(Log(5))).Select(e => e.Kind));

        // A point deletion with nothing newer is kept: only compaction knows whether older data lies below.
        Assert.Equal([ValueKind.Deletion], entries.Where(e => e.Key.AsSpan().SequenceEqual(Log(6))).Select(e => e.Kind));
        Assert.Equal(198 + 1, db.GetStatistics().FlushEntriesDropped);
        Assert.Equal(Value(0, 99), db.Get(hardState, new ReadOptions { Snapshot = snap }));
        Assert.Equal(Value(0, 199), db.Get(hardState));
    }

    [Fact]
    public void A_memtable_whose_every_entry_is_covered_leaves_only_its_tombstones()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            for (long i = 0; i < 100; i++)
            {
                db.Put(Log(i), Value(i));
            }

            db.Flush();
            int tablesBefore = TableFileCount(fs);
            for (long i = 100; i < 200; i++)
            {
                db.Put(Log(i), Value(i));
            }

            db.DeleteRange(Log(50), Log(200));
            db.Flush();

            Assert.Equal(tablesBefore, TableFileCount(fs));
            Assert.Equal(Value(49), db.Get(Log(49)));
            Assert.Null(db.Get(Log(50)));
            Assert.Null(db.Get(Log(150)));
        }

        using (Database db = Database.Open(Dir, Options(fs)))
        {
            Assert.Equal(Value(49), db.Get(Log(49)));
            Assert.Null(db.Get(Log(50)));
            Assert.Null(db.Get(Log(150)));
        }
    }

    [Fact]
    public void Replayed_logs_flush_with_the_same_semantics()
    {
        var fs = new MemFileSystem();
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            for (long i = 0; i < 100; i++)
            {
                db.Put(Log(i), Value(i));
            }

            db.DeleteRange(Log(0), Log(60));
            db.Put(Log(10), Value(10, round: 1));
        }

        // Reopen replays the log into a memtable; a flush then writes it with the same filter.
        using (Database db = Database.Open(Dir, Options(fs)))
        {
            db.Flush();
            Assert.Equal(Value(10, round: 1), db.Get(Log(10)));
            Assert.Null(db.Get(Log(11)));
            Assert.Equal(Value(60), db.Get(Log(60)));
            var live = TableEntries(fs).Select(e => BinaryPrimitives.ReadInt64BigEndian(e.Key.AsSpan(10))).ToHashSet();
            Assert.Contains(10L, live);
            Assert.DoesNotContain(11L, live);
            Assert.DoesNotContain(59L, live);
            Assert.Contains(60L, live);
        }

        using (Database db = Database.Open(Dir, Options(fs)))
        {
            Assert.Equal(Value(10, round: 1), db.Get(Log(10)));
            Assert.Null(db.Get(Log(0)));
            Assert.Equal(Value(99), db.Get(Log(99)));
        }
    }
}
