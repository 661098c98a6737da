using NoKv.Storage.Db;
using NoKv.Storage.Manifest;

namespace NoKv.Storage;

/// <summary>Size and entry-count estimates of key ranges, from table metadata and index blocks (no data block is read).</summary>
public sealed partial class Database
{
    /// <summary>
    /// Approximate bytes the tables spend on keys in [<paramref name="start"/>, <paramref name="end"/>) (an empty end
    /// means unbounded): whole tables inside the range count fully, tables that straddle a bound count from the data
    /// block that would hold the bound, as found in their index. Memtables are not counted, and a key's older versions
    /// and deleted keys not yet compacted away still count, so this is disk usage, not live data. Opens tables not in
    /// the table cache. Values kept in value files count as part of the tables pointing to them, pro rata by the
    /// share of the table in the range. Thread-safe.
    /// </summary>
    public long GetApproximateSize(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end) => Approximate(start, end).Bytes;

    /// <summary>
    /// Approximate point entries the tables hold in [<paramref name="start"/>, <paramref name="end"/>) (an empty end
    /// means unbounded), from the same metadata as <see cref="GetApproximateSize"/>: each table's entry count (kept in
    /// its manifest record) in proportion to the share of its bytes inside the range. An estimate of the live keys
    /// that errs high while older versions and tombstones wait for compaction (every version is an entry) and low by
    /// what the memtables hold (not counted). No data block is read. Thread-safe.
    /// </summary>
    public long GetApproximateEntries(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end) => Approximate(start, end).Entries;

    private (long Bytes, long Entries) Approximate(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
    {
        ThrowIfDisposed();
        byte[] startKey = InternalKey.Make(start, InternalKey.SeekTrailer);
        byte[]? endKey = end.IsEmpty ? null : InternalKey.Make(end, InternalKey.SeekTrailer);
        SuperVersion sv = AcquireSuperVersion();
        try
        {
            long total = 0;
            double entries = 0;
            for (int level = 0; level < sv.Version.NumLevels; level++)
            {
                foreach (FileMetaData file in sv.Version.Files[level])
                {
                    if (InternalKey.Compare(file.Largest, startKey) < 0 || (endKey is not null && InternalKey.Compare(file.Smallest, endKey) >= 0))
                    {
                        continue;
                    }

                    long from = InternalKey.Compare(file.Smallest, startKey) >= 0 ? 0 : _tables.ApproximateOffsetOf((long)file.Number, startKey);
                    long to = endKey is null || InternalKey.Compare(file.Largest, endKey) < 0 ? file.Size : _tables.ApproximateOffsetOf((long)file.Number, endKey);
                    long bytes = Math.Max(0, to - from);
                    total += bytes;
                    if (file.Size > 0)
                    {
                        entries += (double)file.EntryCount * bytes / file.Size;
                    }

                    if (file.SeparatedValueBytes > 0 && file.Size > 0)
                    {
                        // Values kept in value files count with the table pointing to them, in proportion.
                        total += (long)((double)file.SeparatedValueBytes * bytes / file.Size);
                    }
                }
            }

            return (total, (long)Math.Round(entries));
        }
        finally
        {
            sv.Unref();
        }
    }
}
