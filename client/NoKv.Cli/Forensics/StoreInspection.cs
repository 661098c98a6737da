using NoKv.Replica.Layout;
using NoKv.Storage;
using NoKv.Storage.Inspection;

namespace NoKv.Cli.Forensics;

/// <summary>Everything <c>nokv store inspect</c> shows, read through <see cref="DatabaseInspector"/> while it holds the store's lock.</summary>
internal sealed class StoreInspection
{
    private static readonly byte[] LayoutKey = [0x00, (byte)'l', (byte)'a', (byte)'y', (byte)'o', (byte)'u', (byte)'t'];

    public required StoreLocation Location { get; init; }

    public required ulong ManifestNumber { get; init; }

    public required ulong LogNumber { get; init; }

    public required ulong LastSequence { get; init; }

    public required ulong NextFileNumber { get; init; }

    public required IReadOnlyList<IReadOnlyList<TableFileInfo>> Levels { get; init; }

    public required IReadOnlyList<DatabaseFileInfo> Files { get; init; }

    public IReadOnlyList<OfflineShardState> Shards { get; init; } = [];

    /// <summary>The cluster layout fingerprint the store was bootstrapped with (LayoutGuard), if recorded.</summary>
    public string? Layout { get; init; }

    /// <summary>Why the keys (shards, layout) could not be read, when they could not: a damaged log or table.</summary>
    public string? ReadError { get; init; }

    public static StoreInspection Read(StoreLocation location, DatabaseInspector inspector)
    {
        IReadOnlyList<OfflineShardState> shards = [];
        string? layout = null;
        string? error = null;
        try
        {
            using StorageIterator iterator = inspector.NewIterator();
            iterator.Seek(LayoutKey);
            if (iterator.Valid && iterator.Key.SequenceEqual(LayoutKey))
            {
                layout = System.Text.Encoding.UTF8.GetString(iterator.Value);
            }

            shards = OfflineStoreReader.ReadShards(iterator);
        }
        catch (CorruptionException e)
        {
            error = e.Message;
        }

        return new StoreInspection
        {
            Location = location,
            ManifestNumber = inspector.ManifestNumber,
            LogNumber = inspector.LogNumber,
            LastSequence = inspector.ManifestLastSequence,
            NextFileNumber = inspector.NextFileNumber,
            Levels = inspector.Levels(),
            Files = inspector.OtherFiles(),
            Shards = shards,
            Layout = layout,
            ReadError = error,
        };
    }
}
