using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using NoKv.Raft.Messages;

namespace NoKv.Grains.Raft;

/// <summary>
/// Wire format of Raft messages between replica grains: the payload of a RaftMessageBatch, whose Count says
/// how many messages it holds. Byte by byte, with the rules for changing it: docs/format-raft-wire.md.
/// All integers little-endian:
/// <code>
/// batch    = magic 0xB7 (1) | version (1) | message*          version 1, written by this build
///          | message*                                          version 0 (no header), read only
/// message  = type (1) | from (8) | to (8) | term (8) | logTerm (8) | index (8) | commit (8)
///            | reject (1) | rejectHint (8) | chunkOffset (8) | snapshotSize (8)
///            | contextLength (4) | context | entryCount (4) | entry* | hasSnapshot (1) [snapshot]
/// entry    = term (8) | index (8) | type (1) | dataLength (4) | data
/// snapshot = index (8) | term (8) | voterCount (4) | voter (8)* | learnerCount (4) | learner (8)* | dataLength (4) | data
/// </code>
/// A version 0 batch starts with a message type (3 to 19), never 0xB7, so the two are told apart by the first byte.
/// Decoding checks every length and count against the bytes that remain before allocating, so memory is bounded
/// by a small multiple of the payload; anything malformed throws <see cref="FormatException"/>, a batch of a
/// newer version <see cref="UnsupportedWireVersionException"/> (a FormatException too). Nothing else escapes.
/// </summary>
internal static class RaftMessageCodec
{
    /// <summary>The version this build writes. Never reuse a number; see docs/format-raft-wire.md for how to add one.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The oldest version this build reads: 0, the unversioned format of builds before the header.</summary>
    public const byte MinReadableVersion = 0;

    /// <summary>First byte of a versioned batch; outside the range of message types a version 0 batch starts with.</summary>
    public const byte Magic = 0xB7;

    private const int HeaderSize = 2;

    /// <summary>The fixed part of a message: everything but context, entries and snapshot bodies.</summary>
    private const int MinMessageSize = 1 + (8 * 6) + 1 + (8 * 3) + 4 + 4 + 1;

    private const int EntryHeaderSize = 8 + 8 + 1 + 4;

    /// <summary>
    /// Appends <paramref name="m"/> to the batch being built in <paramref name="output"/>. A writer holds one
    /// batch: the first message written into an empty writer (WrittenCount 0, e.g. after ResetWrittenCount)
    /// starts the batch with its header, so reset the writer between batches and put nothing else in it.
    /// Allocates nothing beyond the writer's own growth.
    /// </summary>
    public static void Write(ArrayBufferWriter<byte> output, in Message m)
    {
        var snapshot = m.Snapshot;
        bool first = output.WrittenCount == 0;
        int size = (first ? HeaderSize : 0) + MinMessageSize + m.Context.Length;
        foreach (ref readonly var e in m.Entries.Span)
        {
            size += EntryHeaderSize + e.Data.Length;
        }

        if (snapshot is not null)
        {
            size += 16 + 4 + (8 * snapshot.Metadata.ConfState.Voters.Count) + 4 + (8 * snapshot.Metadata.ConfState.Learners.Count) + 4 + snapshot.Data.Length;
        }

        var span = output.GetSpan(size);
        int at = 0;
        if (first)
        {
            span[at++] = Magic;
            span[at++] = CurrentVersion;
        }

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

    /// <summary>
    /// Decodes the <paramref name="count"/> messages of a batch. Payload slices alias <paramref name="payload"/>,
    /// which must stay unmodified while they are used.
    /// </summary>
    /// <exception cref="UnsupportedWireVersionException">The batch is of a newer version than this build reads.</exception>
    /// <exception cref="FormatException">The batch is malformed (truncated, trailing bytes, a length or count that
    /// overruns it, an unknown or local message type, an unknown entry type, a flag other than 0 or 1).</exception>
    public static Message[] ReadAll(ReadOnlyMemory<byte> payload, int count)
    {
        int at = ReadHeader(payload.Span, out _);
        if (count < 0 || count > (payload.Length - at) / MinMessageSize)
        {
            throw new FormatException($"Raft batch claims {count} messages in {payload.Length} bytes.");
        }

        var messages = count == 0 ? [] : new Message[count];
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

    /// <summary>
    /// Reads the batch header: the wire <paramref name="version"/> and the offset of the first message.
    /// An empty payload (a batch of no messages) reads as the current version.
    /// </summary>
    /// <exception cref="UnsupportedWireVersionException">The header names a version newer than this build reads.</exception>
    /// <exception cref="FormatException">The payload starts with neither the magic nor a message type.</exception>
    public static int ReadHeader(ReadOnlySpan<byte> payload, out int version)
    {
        if (payload.IsEmpty)
        {
            version = CurrentVersion;
            return 0;
        }

        byte first = payload[0];
        if (first == Magic)
        {
            if (payload.Length < HeaderSize)
            {
                throw new FormatException("Raft batch header is truncated.");
            }

            version = payload[1];
            if (version == 0)
            {
                throw new FormatException("Raft batch header names version 0, which has no header.");
            }

            if (version > CurrentVersion)
            {
                throw new UnsupportedWireVersionException(version, MinReadableVersion, CurrentVersion);
            }

            return HeaderSize;
        }

        if (IsWireType((MessageType)first))
        {
            version = 0;
            return 0;
        }

        throw new FormatException($"Not a Raft batch: first byte 0x{first:X2} is neither the magic 0x{Magic:X2} nor a message type.");
    }

    /// <summary>Types a node sends to another; local ones (and Propose, local too) are refused by RawNode.Step.</summary>
    private static bool IsWireType(MessageType type) =>
        type <= MessageType.ReadIndexResponse && type != MessageType.Propose && !Message.IsLocal(type);

    private static Message Read(ReadOnlyMemory<byte> payload, ref int at)
    {
        var span = payload.Span;
        Need(span, at, 1 + (8 * 6) + 1 + (8 * 3));
        var type = (MessageType)span[at++];
        if (!IsWireType(type))
        {
            ThrowMalformed("message type", (byte)type);
        }

        ulong from = U64(span, ref at), to = U64(span, ref at), term = U64(span, ref at), logTerm = U64(span, ref at), index = U64(span, ref at), commit = U64(span, ref at);
        bool reject = Flag(span, ref at);
        ulong rejectHint = U64(span, ref at), chunkOffset = U64(span, ref at), snapshotSize = U64(span, ref at);
        var context = Bytes(payload, ref at);
        int entryCount = I32(span, ref at);
        if (entryCount < 0 || entryCount > (span.Length - at) / EntryHeaderSize)
        {
            ThrowMalformed("entry count", entryCount);
        }

        var entries = entryCount == 0 ? [] : new Entry[entryCount];
        for (int i = 0; i < entryCount; i++)
        {
            Need(span, at, 17);
            ulong eTerm = U64(span, ref at), eIndex = U64(span, ref at);
            var eType = (EntryType)span[at++];
            if (eType is not (EntryType.Normal or EntryType.ConfChange))
            {
                ThrowMalformed("entry type", (byte)eType);
            }

            entries[i] = new Entry(eTerm, eIndex, eType, Bytes(payload, ref at));
        }

        Snapshot? snapshot = null;
        if (Flag(span, ref at))
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
            ThrowTruncated(at, bytes);
        }
    }

    private static bool Flag(ReadOnlySpan<byte> span, ref int at)
    {
        Need(span, at, 1);
        byte b = span[at++];
        if (b > 1)
        {
            ThrowMalformed("flag (0 or 1)", b);
        }

        return b != 0;
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
            ThrowMalformed("field length", length);
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
            ThrowMalformed("member count", count);
        }

        var ids = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = U64(span, ref at);
        }

        return ids;
    }

    /// <summary>Out of line so the throw and its message formatting stay out of the hot methods, which the JIT then
    /// keeps small enough to inline the field readers (measured: twice as fast as with the throws inline).</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMalformed(string field, long value) =>
        throw new FormatException($"Malformed Raft message: {field} {value} is invalid here.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTruncated(int at, int needed) =>
        throw new FormatException($"Raft batch is truncated: {needed} more bytes needed at offset {at}.");
}
