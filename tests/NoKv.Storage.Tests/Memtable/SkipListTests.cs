using NoKv.Storage.Memtable;
using NoKv.Storage.Tests.Support;
using Xunit;

namespace NoKv.Storage.Tests.Memtable;

public sealed class SkipListTests
{
    private static byte[] IKey(int user, ulong seq) => InternalKey.Make(BitConverter.GetBytes(user).Reverse().ToArray(), InternalKey.Trailer(seq, ValueKind.Value));

    [Fact]
    public void Iterates_in_internal_key_order_both_ways_and_seeks()
    {
        var list = new SkipList(new Arena(4096));
        var rng = new Random(5);
        var expected = new SortedSet<byte[]>(ByteArrayComparer.Internal);
        for (ulong seq = 1; seq <= 5000; seq++)
        {
            byte[] k = IKey(rng.Next(1000), seq);
            list.Insert(k, BitConverter.GetBytes(seq));
            expected.Add(k);
        }

        var it = new MemTableIterator(list);
        var forward = new List<byte[]>();
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            forward.Add(it.Key.ToArray());
        }

        Assert.Equal(expected.ToList(), forward);
        var backward = new List<byte[]>();
        for (it.SeekToLast(); it.Valid; it.Prev())
        {
            backward.Add(it.Key.ToArray());
        }

        backward.Reverse();
        Assert.Equal(forward, backward);

        byte[] target = IKey(500, InternalKey.MaxSequence);
        it.Seek(target);
        Assert.Equal(expected.First(k => ByteArrayComparer.Internal.Compare(k, target) >= 0), it.Key.ToArray());
    }

    [Fact]
    public async Task Readers_see_a_sorted_list_while_one_writer_inserts()
    {
        var mem = new MemTable(1, 1 << 20);
        using var cts = new CancellationTokenSource();
        var reader = ScanSortedUntilCancelled(mem, cts.Token);
        var rng = new Random(3);
        for (ulong seq = 1; seq <= 20000; seq++)
        {
            mem.Add(seq, ValueKind.Value, BitConverter.GetBytes(rng.Next()), BitConverter.GetBytes(seq));
        }

        cts.Cancel();
        Assert.True(await reader > 0);
        Assert.Equal(20000, mem.EntryCount);
    }

    /// <summary>
    /// Scans <paramref name="mem"/> over and over on another thread until cancelled (at least once), asserting every
    /// scan sees strictly ascending internal keys and whole 8-byte values; returns the number of scans.
    /// </summary>
    private static Task<int> ScanSortedUntilCancelled(MemTable mem, CancellationToken token) => Task.Run(() =>
    {
        int scans = 0;
        while (!token.IsCancellationRequested || scans == 0)
        {
            using MemTableIterator it = mem.NewIterator();
            byte[]? prev = null;
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                byte[] k = it.Key.ToArray();
                Assert.True(prev is null || InternalKey.Compare(prev, k) < 0);
                Assert.Equal(8, it.Value.Length);
                prev = k;
            }

            scans++;
        }

        return scans;
    });

    // A store's engine key pattern: per shard a log of 18-byte keys (shared 10-byte head, big-endian index),
    // state rows of 10 bytes written again and again, and random keys in between.
    private static byte[] LogKey(int shard, long index)
    {
        var key = new byte[18];
        key[0] = 0x01;
        key[8] = (byte)shard;
        key[9] = 0x01;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(10), index);
        return key;
    }

    private static byte[] StateKey(int shard, byte kind) => [0x01, 0, 0, 0, 0, 0, 0, 0, (byte)shard, kind];

    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    public void Interleaved_log_state_and_random_inserts_keep_order_and_mostly_skip_the_search(int seed)
    {
        var list = new SkipList(new Arena(1 << 16));
        var rng = new Random(seed);
        var expected = new SortedSet<byte[]>(ByteArrayComparer.Internal);
        var nextIndex = new long[4];
        ulong seq = 0;
        long logInserts = 0;
        for (int ready = 0; ready < 1500; ready++)
        {
            // One Ready of one shard: a few log entries, the state rows, and as many random data keys.
            int shard = rng.Next(nextIndex.Length);
            int entries = rng.Next(1, 6);
            var batch = new List<byte[]>();
            for (int e = 0; e < entries; e++)
            {
                batch.Add(LogKey(shard, nextIndex[shard]++));
                logInserts++;
            }

            batch.Add(StateKey(shard, 0x02));
            for (int e = 0; e < entries; e++)
            {
                var data = new byte[17];
                rng.NextBytes(data);
                data[0] = 0x02;
                batch.Add(data);
            }

            batch.Add(StateKey(shard, 0x04));
            if (rng.Next(50) == 0)
            {
                // Now and then a key far from every splice, before them all.
                batch.Add([0x00, (byte)rng.Next(256)]);
            }

            foreach (byte[] user in batch)
            {
                byte[] k = InternalKey.Make(user, InternalKey.Trailer(++seq, ValueKind.Value));
                list.Insert(k, BitConverter.GetBytes(seq));
                expected.Add(k);
            }
        }

        AssertIteratesInOrderAndSeeks(list, expected, expected.Where((_, i) => i % 37 == 0));

        // Every log entry and state row is a candidate (about two thirds of the inserts); most must be placed
        // from a splice. Random keys may be too (rarely), so the bound is on the candidates.
        Assert.True(list.SplicePlacedCount > logInserts, $"placed from a splice: {list.SplicePlacedCount} of {expected.Count} (log entries {logInserts})");
    }

    [Theory]
    [InlineData(41)]
    [InlineData(42)]
    public void Descending_and_random_keys_sharing_one_head_keep_order(int seed)
    {
        // One sequence tag for every key (16-byte keys share the first 8 bytes): the splice is tried against
        // keys before it, after it and far away, and must fall back to the search whenever it cannot place one.
        var list = new SkipList(new Arena(1 << 16));
        var rng = new Random(seed);
        var expected = new SortedSet<byte[]>(ByteArrayComparer.Internal);
        ulong seq = 0;
        for (int i = 0; i < 6000; i++)
        {
            long n = (i % 3) switch
            {
                0 => 1_000_000 - i,
                1 => rng.Next(2_000_000),
                _ => i / 3 % 50,
            };
            byte[] user = System.Text.Encoding.ASCII.GetBytes($"{n:D16}");
            byte[] k = InternalKey.Make(user, InternalKey.Trailer(++seq, ValueKind.Value));
            list.Insert(k, []);
            expected.Add(k);
        }

        AssertIteratesInOrderAndSeeks(list, expected, expected.Where((_, i) => i % 29 == 0));
    }

    [Fact]
    public async Task Readers_see_a_sorted_list_while_the_writer_inserts_from_splices()
    {
        var mem = new MemTable(1, 1 << 20);
        using var cts = new CancellationTokenSource();
        var reader = ScanSortedUntilCancelled(mem, cts.Token);
        ulong seq = 0;
        for (long index = 0; index < 6000; index++)
        {
            int shard = (int)(index % 3);
            mem.Add(++seq, ValueKind.Value, LogKey(shard, index), BitConverter.GetBytes(seq));
            mem.Add(++seq, ValueKind.Value, StateKey(shard, 0x02), BitConverter.GetBytes(seq));
            Assert.Equal(MemtableGetResult.Found, mem.Get(StateKey(shard, 0x02), seq, out ReadOnlySpan<byte> v, out _));
            Assert.Equal(seq, BitConverter.ToUInt64(v));
        }

        cts.Cancel();
        Assert.True(await reader > 0);
        Assert.True(mem.List.SplicePlacedCount > 10000, $"placed from a splice: {mem.List.SplicePlacedCount} of {seq}");
    }

    [Fact]
    public void Get_returns_the_newest_version_visible_at_the_snapshot()
    {
        var mem = new MemTable(1, 1 << 20);
        mem.Add(1, ValueKind.Value, "k"u8, "v1"u8);
        mem.Add(2, ValueKind.Deletion, "k"u8, default);
        mem.Add(3, ValueKind.Value, "k"u8, "v3"u8);
        Assert.Equal(MemtableGetResult.Found, mem.Get("k"u8, 1, out ReadOnlySpan<byte> v, out _));
        Assert.Equal("v1"u8.ToArray(), v.ToArray());
        Assert.Equal(MemtableGetResult.Deleted, mem.Get("k"u8, 2, out _, out _));
        Assert.Equal(MemtableGetResult.Found, mem.Get("k"u8, 10, out v, out ulong seq));
        Assert.Equal("v3"u8.ToArray(), v.ToArray());
        Assert.Equal(3UL, seq);
        Assert.Equal(MemtableGetResult.NotFound, mem.Get("j"u8, 10, out _, out _));
        Assert.Equal(MemtableGetResult.NotFound, mem.Get("kk"u8, 10, out _, out _));
        Assert.Equal(MemtableGetResult.NotFound, mem.Get("k"u8, 0, out _, out _));
    }

    [Fact]
    public void Order_is_bytewise_for_keys_with_zero_bytes_and_shared_prefixes()
    {
        var list = new SkipList(new Arena(4096));
        var rng = new Random(17);
        byte[] alphabet = [0, 1, 0x7F, 0x80, 0xFF];
        var expected = new SortedSet<byte[]>(ByteArrayComparer.Internal);
        for (ulong seq = 1; seq <= 3000; seq++)
        {
            byte[] user = new byte[rng.Next(13)];
            for (int i = 0; i < user.Length; i++)
            {
                user[i] = alphabet[rng.Next(alphabet.Length)];
            }

            byte[] k = InternalKey.Make(user, InternalKey.Trailer(seq, ValueKind.Value));
            list.Insert(k, []);
            expected.Add(k);
        }

        AssertIteratesInOrderAndSeeks(list, expected, expected.Take(200));
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public void Order_is_bytewise_for_long_keys_sharing_long_prefixes(int seed)
    {
        // Keys of 0..40 bytes built from a few shared stems, so that many comparisons get past the 8-byte
        // prefix and through the 8-bytes-at-a-time path, with repeated user keys at different sequences.
        var list = new SkipList(new Arena(4096));
        var rng = new Random(seed);
        byte[] alphabet = [0, 1, 0x7F, 0x80, 0xFF];
        var stems = new byte[6][];
        for (int s = 0; s < stems.Length; s++)
        {
            stems[s] = new byte[rng.Next(8, 33)];
            for (int i = 0; i < stems[s].Length; i++)
            {
                stems[s][i] = alphabet[rng.Next(2)];
            }
        }

        var expected = new SortedSet<byte[]>(ByteArrayComparer.Internal);
        for (ulong seq = 1; seq <= 4000; seq++)
        {
            byte[] stem = stems[rng.Next(stems.Length)];
            byte[] user = new byte[Math.Min(40, rng.Next(stem.Length + 9))];
            for (int i = 0; i < user.Length; i++)
            {
                user[i] = i < stem.Length ? stem[i] : alphabet[rng.Next(alphabet.Length)];
            }

            byte[] k = InternalKey.Make(user, InternalKey.Trailer(seq, ValueKind.Value));
            list.Insert(k, []);
            expected.Add(k);
        }

        AssertIteratesInOrderAndSeeks(list, expected, expected.Where((_, i) => i % 20 == 0));
    }

    /// <summary>A full scan yields exactly <paramref name="expected"/> in order, and each target seeks onto itself.</summary>
    private static void AssertIteratesInOrderAndSeeks(SkipList list, SortedSet<byte[]> expected, IEnumerable<byte[]> targets)
    {
        var it = new MemTableIterator(list);
        var forward = new List<byte[]>();
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            forward.Add(it.Key.ToArray());
        }

        Assert.Equal(expected.ToList(), forward);
        foreach (byte[] target in targets)
        {
            it.Seek(target);
            Assert.Equal(target, it.Key.ToArray());
        }
    }
}
