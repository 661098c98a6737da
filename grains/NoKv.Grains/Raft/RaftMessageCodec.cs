using System.Buffers;
using System.Buffers.Binary;
using NoKv.Raft.Messages;

namespace NoKv.Grains.Raft;

/// <summary>
/// Wire format of Raft messages between replica grains (the payload of a RaftMessageBatch). All integers
/// little-endian; a batch is the concatenation of its messages:
/// <code>
/// message  = type (1) | from (8) | to (8) | term (8) | logTerm (8) | index (8) | commit (8)
///            | reject (1) | rejectHint (8) | chunkOffset (8) | snapshotSize (8)
///            | contextLength (4) | context | entryCount (4) | entry* | hasSnapshot (1) [snapshot]
/// entry    = term (8) | index (8) | type (1) | dataLength (4) | data
/// snapshot = index (8) | term (8) | voterCount (4) | voter (8)* | learnerCount (4) | learner (8)* | dataLength (4) | data
/// </code>
/// Both ends of a cluster run the same version; a format change needs a version byte first.
/// Decoding validates every length against the remaining input and throws <see cref="FormatException"/>.
/// </summary>
internal static class RaftMessageCodec
{
    public static void Write(ArrayBufferWriter<byte> output, Message m)
    {
        var snapshot = m.Snapshot;
        int size = 1 + (8 * 6) + 1 + (8 * 3) + 4 + m.Context.Length + 4 + 1;
        foreach (ref readonly var e in m.Entries.Span)
        {
            size += 21 + e.Data.Length;
        }

        if (snapshot is not null)
        {
            size += 16 + 4 + (8 * snapshot.Metadata.ConfState.Voters.Count) + 4 + (8 * snapshot.Metadata.ConfState.Learners.Count) + 4 + snapshot.Data.Length;
        }

        var span = output.GetSpan(size);
        int at = 0;
        span[at++] = (byte)m.Type;
        at = PutU64(span, at, m.From);
        at = PutU64(span, at, m.To);
        at = PutU64(span, at, m.Term);
        at = PutU64(span, at, m.LogTerm);
        at = PutU64(span, at, m.Index);
        at = PutU64(span, at, m.Commit);
        span[at++] = m.Reject ? (byte)1 : (byte)0;
        at = PutU64(span, at, m.RejectHint);
        at = PutU64(span, at, m.ChunkOffset);
        at = PutU64(span, at, m.SnapshotSize);
        at = PutBytes(span, at, m.Context.Span);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], m.Entries.Length);
        at += 4;
        foreach (ref readonly var e in m.Entries.Span)
        {
            at = PutU64(span, at, e.Term);
            at = PutU64(span, at, e.Index);
            span[at++] = (byte)e.Type;
            at = PutBytes(span, at, e.Data.Span);
        }

        span[at++] = snapshot is null ? (byte)0 : (byte)1;
        if (snapshot is not null)
        {
            at = PutU64(span, at, snapshot.Metadata.Index);
            at = PutU64(span, at, snapshot.Metadata.Term);
            at = PutIds(span, at, snapshot.Metadata.ConfState.Voters);
            at = PutIds(span, at, snapshot.Metadata.ConfState.Learners);
            at = PutBytes(span, at, snapshot.Data.Span);
        }

        output.Advance(at);
    }

    /// <summary>Decodes <paramref name="count"/> messages. Payload slices alias <paramref name="payload"/>, which must stay unmodified.</summary>
    public static Message[] ReadAll(ReadOnlyMemory<byte> payload, int count)
    {
        if (count < 0 || count > payload.Length)
        {
            throw new FormatException($"Raft batch claims {count} messages in {payload.Length} bytes.");
        }

        var messages = new Message[count];
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            messages[i] = Read(payload, ref at);
        }

        if (at != payload.Length)
        {
            throw new FormatException($"Raft batch has {payload.Length - at} trailing bytes.");
        }

        return messages;
    }

    private static Message Read(ReadOnlyMemory<byte> payload, ref int at)
    {
        var span = payload.Span;
        Need(span, at, 1 + (8 * 6) + 1 + (8 * 3));
        var type = (MessageType)span[at++];
        ulong from = U64(span, ref at), to = U64(span, ref at), term = U64(span, ref at), logTerm = U64(span, ref at), index = U64(span, ref at), commit = U64(span, ref at);
        bool reject = span[at++] != 0;
        ulong rejectHint = U64(span, ref at), chunkOffset = U64(span, ref at), snapshotSize = U64(span, ref at);
        var context = Bytes(payload, ref at);
        int entryCount = I32(span, ref at);
        if (entryCount < 0 || entryCount > (span.Length - at) / 21)
        {
            throw new FormatException($"Raft message claims {entryCount} entries.");
        }

        var entries = entryCount == 0 ? [] : new Entry[entryCount];
        for (int i = 0; i < entryCount; i++)
        {
            Need(span, at, 17);
            ulong eTerm = U64(span, ref at), eIndex = U64(span, ref at);
            var eType = (EntryType)span[at++];
            entries[i] = new Entry(eTerm, eIndex, eType, Bytes(payload, ref at));
        }

        Need(span, at, 1);
        Snapshot? snapshot = null;
        if (span[at++] != 0)
        {
            Need(span, at, 16);
            ulong sIndex = U64(span, ref at), sTerm = U64(span, ref at);
            var voters = Ids(span, ref at);
            var learners = Ids(span, ref at);
            snapshot = new Snapshot(new SnapshotMetadata(sIndex, sTerm, new ConfState(voters, learners)), Bytes(payload, ref at));
        }

        return new Message
        {
            Type = type, From = from, To = to, Term = term, LogTerm = logTerm, Index = index, Commit = commit,
            Reject = reject, RejectHint = rejectHint, ChunkOffset = chunkOffset, SnapshotSize = snapshotSize,
            Context = context, Entries = entries, Snapshot = snapshot,
        };
    }

    private static int PutU64(Span<byte> span, int at, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(span[at..], value);
        return at + 8;
    }

    private static int PutBytes(Span<byte> span, int at, ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], data.Length);
        data.CopyTo(span[(at + 4)..]);
        return at + 4 + data.Length;
    }

    private static int PutIds(Span<byte> span, int at, IReadOnlyList<ulong> ids)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], ids.Count);
        at += 4;
        for (int i = 0; i < ids.Count; i++)
        {
            at = PutU64(span, at, ids[i]);
        }

        return at;
    }

    private static void Need(ReadOnlySpan<byte> span, int at, int bytes)
    {
        if (span.Length - at < bytes)
        {
            throw new FormatException("Raft message is truncated.");
        }
    }

    private static ulong U64(ReadOnlySpan<byte> span, ref int at)
    {
        Need(span, at, 8);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(span[at..]);
        at += 8;
        return v;
    }

    private static int I32(ReadOnlySpan<byte> span, ref int at)
    {
        Need(span, at, 4);
        int v = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        return v;
    }

    private static ReadOnlyMemory<byte> Bytes(ReadOnlyMemory<byte> payload, ref int at)
    {
        int length = I32(payload.Span, ref at);
        if (length < 0 || length > payload.Length - at)
        {
            throw new FormatException($"Raft message field claims {length} bytes.");
        }

        var slice = payload.Slice(at, length);
        at += length;
        return slice;
    }

    private static ulong[] Ids(ReadOnlySpan<byte> span, ref int at)
    {
        int count = I32(span, ref at);
        if (count < 0 || count > (span.Length - at) / 8)
        {
            throw new FormatException($"Raft snapshot claims {count} members.");
        }

        var ids = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = U64(span, ref at);
        }

        return ids;
    }
}
