using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

public class TableReadaheadTests
{
    [Fact]
    public void ForwardScanReadsManyBlocksPerFileRead()
    {
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise);
        for (int i = 0; i < 20_000; i++)
        {
            entries[System.Text.Encoding.ASCII.GetBytes($"key{i:D8}")] = new byte[100];
        }

        var inner = TestTables.NewFileSystem();
        TableProperties props = TestTables.Build(inner, TestTables.PathOf(1), entries, TableOptions.Default);
        var fs = new CountingFileSystem(inner);
        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(1), 1, TableOptions.Default);
        int readsAtOpen = fs.Reads;

        using (IInternalIterator it = reader.NewIterator(fillCache: false))
        {
            int count = 0;
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                count++;
            }

            Assert.Equal(entries.Count, count);
        }

        int scanReads = fs.Reads - readsAtOpen;
        Assert.True(props.DataBlocks > 400, $"{props.DataBlocks} blocks");
        Assert.True(scanReads < props.DataBlocks / 10, $"{scanReads} reads for {props.DataBlocks} blocks");

        // Backward scans read block by block (no readahead): 500 entries of ~114 bytes span 13-15 blocks.
        int before = fs.Reads;
        using (IInternalIterator it = reader.NewIterator(fillCache: false))
        {
            int count = 0;
            for (it.SeekToLast(); it.Valid && count < 500; it.Prev())
            {
                count++;
            }
        }

        int backwardReads = fs.Reads - before;
        Assert.True(backwardReads >= 13 && backwardReads <= 16, $"{backwardReads} reads backward");
    }
}
