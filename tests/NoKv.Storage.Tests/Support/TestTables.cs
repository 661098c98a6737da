using NoKv.Storage.Cache;
using NoKv.Storage.Manifest;
using NoKv.Storage.Sstable;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.Tests.Support;

/// <summary>Builds and opens tables on a <see cref="MemFileSystem"/> for table-layer tests.</summary>
internal static class TestTables
{
    public const string Directory = "/tables";

    public static MemFileSystem NewFileSystem()
    {
        var fs = new MemFileSystem();
        fs.CreateDirectory(Directory);
        return fs;
    }

    public static string PathOf(long fileNumber) => $"{Directory}/{fileNumber:D6}.sst";

    public static TableProperties Build(IFileSystem fs, string path, IEnumerable<KeyValuePair<byte[], byte[]>> sortedEntries, TableOptions options)
    {
        using IWritableFile file = fs.CreateWritable(path);
        var builder = new TableBuilder(file, options);
        foreach (KeyValuePair<byte[], byte[]> entry in sortedEntries)
        {
            builder.Add(entry.Key, entry.Value);
        }

        TableProperties properties = builder.Finish();
        file.Sync();
        return properties;
    }

    public static TableReader Open(IFileSystem fs, string path, long fileNumber, TableOptions options, BlockCache? cache = null) =>
        TableReader.Open(fs.OpenRandomAccess(path), fileNumber, options, cache);

    /// <summary>Distinct random keys (sorted under <paramref name="comparer"/>) with random values.</summary>
    public static SortedDictionary<byte[], byte[]> RandomEntries(Random random, int count, int maxKeyLength, int maxValueLength, IComparer<byte[]> comparer)
    {
        var entries = new SortedDictionary<byte[], byte[]>(comparer);
        while (entries.Count < count)
        {
            // Keys share prefixes often (small alphabet at the front) so prefix compression is exercised.
            var key = new byte[random.Next(0, maxKeyLength + 1)];
            for (int i = 0; i < key.Length; i++)
            {
                key[i] = i < 3 ? (byte)random.Next(0, 4) : (byte)random.Next(0, 256);
            }

            var value = new byte[random.Next(0, maxValueLength + 1)];
            random.NextBytes(value);
            entries[key] = value;
        }

        return entries;
    }

    /// <summary>A table's manifest entry spanning ASCII keys <paramref name="smallest"/>..<paramref name="largest"/>, for picker and version tests that need no file.</summary>
    public static FileMetaData Meta(ulong number, long size, string smallest, string largest) => new()
    {
        Number = number,
        Size = size,
        Smallest = InternalKey.Make(System.Text.Encoding.ASCII.GetBytes(smallest), InternalKey.Trailer(9, ValueKind.Value)),
        Largest = InternalKey.Make(System.Text.Encoding.ASCII.GetBytes(largest), InternalKey.Trailer(1, ValueKind.Value)),
        SmallestSequence = 1,
        LargestSequence = 9,
        EntryCount = 10,
    };
}
