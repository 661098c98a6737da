using NoKv.Storage.Sstable;
using NoKv.Storage.Tests.Support;
using Xunit;

namespace NoKv.Storage.Tests.Sstable;

/// <summary>
/// Pins the on-disk format to the worked example in docs/format-sstable.md: if this fails, either the
/// writer changed the format (needs a new format version) or the page is out of date.
/// </summary>
public class TableFormatGoldenTests
{
    private const string DocumentedDump = """
        00 05 01 61 70 70 6c 65 31 04 01 02 79 32 32 00
        06 00 62 61 6e 61 6e 61 00 00 00 00 0f 00 00 00
        02 00 00 00 00 39 33 af 3e 00 00 02 00 00 00 00
        00 20 20 00 00 00 00 80 00 00 00 00 00 00 00 06
        00 00 00 00 00 40 10 00 08 00 00 00 00 00 00 00
        00 04 00 20 00 00 80 02 00 00 0a 00 00 00 00 40
        00 00 80 00 40 00 00 00 00 06 01 00 06 e8 07 ac
        03 01 29 00 47 10 03 0a 0d 6e 6f 6b 76 2e 62 79
        74 65 77 69 73 65 05 61 70 70 6c 65 06 62 61 6e
        61 6e 61 00 7f 53 61 fb 00 01 02 63 00 24 00 00
        00 00 01 00 00 00 00 39 b7 0b dd 29 00 00 00 00
        00 00 00 42 00 00 00 00 00 00 00 70 00 00 00 00
        00 00 00 23 00 00 00 00 00 00 00 98 00 00 00 00
        00 00 00 0e 00 00 00 00 00 00 00 01 00 00 00 52
        f4 20 e4 4e 6f 4b 76 53 53 54 62
        """;

    [Fact]
    public void WorkedExampleIsByteExact()
    {
        var entries = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Bytewise)
        {
            ["apple"u8.ToArray()] = "1"u8.ToArray(),
            ["apply"u8.ToArray()] = "22"u8.ToArray(),
            ["banana"u8.ToArray()] = [],
        };
        var fs = TestTables.NewFileSystem();
        var options = new TableOptions { BlockRestartInterval = 2, BloomBitsPerKey = 10 };
        TestTables.Build(fs, TestTables.PathOf(1), entries, options);

        byte[] expected = Convert.FromHexString(string.Concat(DocumentedDump.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal(expected, fs.ReadAllBytes(TestTables.PathOf(1)));

        using TableReader reader = TestTables.Open(fs, TestTables.PathOf(1), 1, options);
        Assert.True(reader.TryGet("apply"u8, out _, out ReadOnlySpan<byte> value));
        Assert.True(value.SequenceEqual("22"u8));
    }
}
