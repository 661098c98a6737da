using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

/// <summary>
/// Point reads and seeks over key shapes that stress the index search aid (IndexKeyPrefixes): long shared
/// prefixes, 8-byte windows that tie, keys shorter than the window, and targets outside the common prefix.
/// </summary>
public class TableIndexSearchTests
{
    public static TheoryData<string, int> Shapes => new()
    {
        { "long-common-prefix", 31 },
        { "window-ties", 32 },
        { "short-keys", 33 },
        { "mixed-lengths", 34 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void LookupsAndSeeksMatchModel(string shape, int seed)
    {
        var random = new Random(seed);
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        while (entries.Count < 4000)
        {
            entries[MakeKey(shape, random)] = BitConverter.GetBytes(entries.Count);
        }

        var options = new TableOptions { BlockSizeBytes = 128, BlockRestartInterval = 4 };
        MemFileSystem fs = TestTables.NewFileSystem();
        TestTables.Build(fs, TestTables.PathOf(1), entries, options);
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(1), 1, options);
        List<byte[]> keys = [.. entries.Keys];
        string context = $"shape={shape} seed={seed}";
        Assert.True(reader.HasIndexKeyPrefixes, context);
        if (shape == "long-common-prefix")
        {
            // The last index entry ("u", the short successor of the last key) is left out of the aid, so the
            // covered keys keep their long shared prefix.
            Assert.True(reader.IndexCommonPrefixLength >= "tenant-0001/region-eu/table/"u8.Length, context);
        }

        foreach (KeyValuePair<byte[], byte[]> e in entries)
        {
            Assert.True(reader.TryGet(e.Key, out _, out ReadOnlySpan<byte> value), context);
            Assert.True(value.SequenceEqual(e.Value), context);
        }

        // Targets around the end of the table: the last key, just past it, far past it with the shared
        // prefix, and every key of the last few blocks.
        byte[] justPastLast = [.. keys[^1], 0];
        var targets = new List<byte[]> { keys[^1], justPastLast, System.Text.Encoding.ASCII.GetBytes("tenant-0001/region-eu/table/99999999") };
        targets.AddRange(keys.Skip(keys.Count - 40));
        for (int probe = 0; probe < 4000; probe++)
        {
            targets.Add(probe % 4 == 0 ? RandomBytes(random) : MakeKey(shape, random));
        }

        using IInternalIterator it = reader.NewIterator();
        foreach (byte[] target in targets)
        {
            int expected = LowerBound(keys, target);
            it.Seek(target);
            Assert.True(it.Valid == (expected < keys.Count), context);
            if (expected < keys.Count)
            {
                Assert.True(it.Key.SequenceEqual(keys[expected]), context);
            }

            Assert.True(reader.TryGet(target, out _, out _) == entries.ContainsKey(target), context);
        }
    }

    private static byte[] MakeKey(string shape, Random random)
    {
        switch (shape)
        {
            case "long-common-prefix":
                return System.Text.Encoding.ASCII.GetBytes($"tenant-0001/region-eu/table/{random.Next(100_000):D8}");
            case "window-ties":
            {
                // 8 identical bytes after a shared prefix, so the window ties and the full key decides.
                var key = new byte[4 + 8 + 4];
                "pfx/"u8.CopyTo(key);
                key.AsSpan(4, 8).Fill((byte)random.Next(0, 2));
                random.NextBytes(key.AsSpan(12));
                return key;
            }

            case "short-keys":
            {
                var key = new byte[random.Next(0, 4)];
                random.NextBytes(key);
                return key;
            }

            default:
            {
                var key = new byte[random.Next(0, 20)];
                for (int i = 0; i < key.Length; i++)
                {
                    key[i] = (byte)random.Next(0, 3);
                }

                return key;
            }
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        var key = new byte[random.Next(0, 40)];
        random.NextBytes(key);
        return key;
    }

    private static int LowerBound(List<byte[]> keys, byte[] target)
    {
        int lo = 0, hi = keys.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (keys[mid].AsSpan().SequenceCompareTo(target) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
