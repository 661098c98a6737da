using NoKv.Storage.Encoding;

namespace NoKv.Storage.Sstable;

/// <summary>
/// Facts about one table, returned by <c>TableBuilder.Finish</c> and stored in the table's properties block
/// (so a reader has them without scanning). Immutable.
/// </summary>
public sealed class TableProperties
{
    public long Entries { get; init; }

    public long DataBlocks { get; init; }

    /// <summary>Bytes of all data blocks including their trailers.</summary>
    public long DataSize { get; init; }

    /// <summary>Bytes of the index block including its trailer.</summary>
    public long IndexSize { get; init; }

    /// <summary>Bytes of the filter block including its trailer (0 without a filter).</summary>
    public long FilterSize { get; init; }

    /// <summary>Sum of key lengths and value lengths as added (before prefix compression).</summary>
    public long RawKeySize { get; init; }

    public long RawValueSize { get; init; }

    /// <summary>Length of the finished file (known after the footer is written; 0 when read back from a table).</summary>
    public long FileSize { get; init; }

    public int BloomBitsPerKey { get; init; }

    public string ComparerName { get; init; } = string.Empty;

    /// <summary>First key of the table; empty if the table has no entries.</summary>
    public byte[] SmallestKey { get; init; } = [];

    /// <summary>Last key of the table; empty if the table has no entries.</summary>
    public byte[] LargestKey { get; init; } = [];

    /// <summary>
    /// Properties block contents (format version 1), in this order:
    /// varint64 entries, data_blocks, data_size, index_size, filter_size, raw_key_size, raw_value_size;
    /// varint32 bloom_bits_per_key; then length-prefixed (varint32) comparer name (UTF-8), smallest key,
    /// largest key. index_size is unknown when the properties block is written (the index follows it) and
    /// is stored as 0.
    /// </summary>
    internal void EncodeTo(ByteBuffer buffer)
    {
        buffer.AppendVarint64((ulong)Entries);
        buffer.AppendVarint64((ulong)DataBlocks);
        buffer.AppendVarint64((ulong)DataSize);
        buffer.AppendVarint64((ulong)IndexSize);
        buffer.AppendVarint64((ulong)FilterSize);
        buffer.AppendVarint64((ulong)RawKeySize);
        buffer.AppendVarint64((ulong)RawValueSize);
        buffer.AppendVarint32((uint)BloomBitsPerKey);
        buffer.AppendLengthPrefixed(System.Text.Encoding.UTF8.GetBytes(ComparerName));
        buffer.AppendLengthPrefixed(SmallestKey);
        buffer.AppendLengthPrefixed(LargestKey);
    }

    internal static TableProperties Decode(ReadOnlySpan<byte> source, string path, long offset)
    {
        var reader = new CheckedSpanReader(source, path, offset, "properties block");
        return new TableProperties
        {
            Entries = reader.ReadVarint64AsLong(),
            DataBlocks = reader.ReadVarint64AsLong(),
            DataSize = reader.ReadVarint64AsLong(),
            IndexSize = reader.ReadVarint64AsLong(),
            FilterSize = reader.ReadVarint64AsLong(),
            RawKeySize = reader.ReadVarint64AsLong(),
            RawValueSize = reader.ReadVarint64AsLong(),
            BloomBitsPerKey = (int)reader.ReadVarint32(),
            ComparerName = System.Text.Encoding.UTF8.GetString(reader.ReadLengthPrefixed()),
            SmallestKey = reader.ReadLengthPrefixed().ToArray(),
            LargestKey = reader.ReadLengthPrefixed().ToArray(),
        };
    }
}
