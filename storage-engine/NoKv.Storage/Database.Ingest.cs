namespace NoKv.Storage;

/// <summary>Range export and ingest (Raft snapshots, shard moves).</summary>
public sealed partial class Database
{
    public void ExportRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, Stream destination, Snapshot? snapshot = null) => throw new NotImplementedException();

    public long IngestRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, Stream source) => throw new NotImplementedException();
}
