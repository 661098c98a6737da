using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Snapshots;
using NoKv.Replica.Layout;
using NoKv.Replica.Snapshots;
using NoKv.Storage.Transfer;

namespace NoKv.Replica.StateMachine;

internal sealed partial class ShardStateMachine
{
    /// <summary>
    /// Checks a whole snapshot without changing anything: its header, that its descriptor names this replica, and every
    /// section's range export (magic, record checksums, key order, counts; docs/format-export.md). A torn or damaged
    /// staging file fails here, before any of it is written, so a replica that rejects one is left exactly as it was.
    /// Reads the payload front to back: call it off the replica's thread.
    /// </summary>
    /// <exception cref="InvalidDataException">The header, descriptor or section framing is wrong.</exception>
    /// <exception cref="NoKv.Storage.CorruptionException">A section's export is damaged.</exception>
    public void VerifySnapshot(SnapshotPayload payload)
    {
        using var stream = payload.OpenRead();
        var reader = new SnapshotSectionReader(stream, $"Shard {_shard.Id}");
        ReadSnapshotHeader(reader);
        while (reader.Remaining > 0)
        {
            var section = reader.NextSection();
            if (section.Length == 0)
            {
                continue;
            }

            var entries = new RangeStreamReader(section);
            while (entries.TryRead(out _, out _))
            {
            }
        }
    }

    /// <summary>Ingests every section of a snapshot (thread pool); returns its version and descriptor.</summary>
    private (byte Version, ShardDescriptor Incoming) IngestSnapshot(SnapshotPayload payload)
    {
        using var stream = payload.OpenRead();
        var reader = new SnapshotSectionReader(stream, $"Shard {_shard.Id}");
        var (version, incoming) = ReadSnapshotHeader(reader);
        var (dataStart, dataEnd) = KeySpace.DataRange(_dataPrefix, incoming.Range.Start, incoming.Range.End);
        IngestSection(reader.NextSection(), KeySpace.SessionStart(_shard.Id), KeySpace.SessionEnd(_shard.Id));
        IngestSection(reader.NextSection(), dataStart, dataEnd);
        IngestLockSections(reader, incoming, hasLockSections: version >= 3);
        if (version >= 4)
        {
            IngestSection(reader.NextSection(), KeySpace.SplitHistoryKey(_shard.Id), KeySpace.SplitHistoryEnd(_shard.Id));
        }

        if (version >= 5)
        {
            IngestSection(reader.NextSection(), KeySpace.MergeStateKey(_shard.Id), KeySpace.MergeStateEnd(_shard.Id));
        }

        return (version, incoming);
    }

    /// <summary>Reads and checks the fixed header and the descriptor (which must name this replica's peer).</summary>
    private (byte Version, ShardDescriptor Incoming) ReadSnapshotHeader(SnapshotSectionReader reader)
    {
        Span<byte> header = stackalloc byte[25];
        if (reader.Remaining < header.Length)
        {
            throw new InvalidDataException($"Shard {_shard.Id}: snapshot data has no valid header.");
        }

        reader.ReadExactly(header);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != SnapshotMagic || header[4] is < OldestSnapshotVersion or > SnapshotVersion)
        {
            throw new InvalidDataException($"Shard {_shard.Id}: snapshot data has no valid header.");
        }

        int descriptorLength = BinaryPrimitives.ReadInt32LittleEndian(header[21..]);
        if (descriptorLength < 0 || descriptorLength > reader.Remaining)
        {
            throw new InvalidDataException($"Shard {_shard.Id}: snapshot descriptor overruns the data.");
        }

        var descriptor = new byte[descriptorLength];
        reader.ReadExactly(descriptor);
        var incoming = ReplicaStateCodec.Decode(descriptor).Descriptor;
        if (incoming.Id != _shard.Id || incoming.Peer(PeerId) is null)
        {
            throw new InvalidDataException($"Shard {_shard.Id}: snapshot of {incoming} does not include peer {PeerId}.");
        }

        return (header[4], incoming);
    }
}
