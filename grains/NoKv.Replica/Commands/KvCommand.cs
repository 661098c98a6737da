using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using NoKv.Abstractions.Requests;

namespace NoKv.Replica.Commands;

/// <summary>
/// A single-key write as stored in a Raft log entry: command type <see cref="CommandType.Write"/> in the
/// command envelope (<see cref="CommandEnvelope"/>). Byte by byte, with the legacy tags, in docs/format-commands.md.
/// Little-endian:
/// <code>
/// entry = envelope(Write) | write                       written by this build
///       | envelope(TimedWrite) | write | expiresAt (8) | keepExpiry (1) | condition (1)   a write with an expiry
///       | 2 | write                                     legacy tag 2, read only
///       | 1 | write without proposedAt                  legacy tag 1, read only
/// write = kind (1) | epoch (8) | session id (16) | sequence (8) | proposed at, Unix ms (8)
///         | keyLength (4) | key | hasValue (1) [valueLength (4) | value] | hasExpected (1) [expectedLength (4) | expected]
/// </code>
/// Timestamps come from the proposing leader's clock and travel inside the entry, so every replica applies
/// the same values and stays deterministic. So does the expiry: <paramref name="ExpiresAtMs"/> is absolute (Unix ms,
/// 0 = none), computed by the proposing leader from the client's time to live before the entry is written.
/// A write that sets, keeps or changes an expiry travels as <see cref="CommandType.TimedWrite"/> (kinds 1-4);
/// every other write as <see cref="CommandType.Write"/> (kinds 1-3), which every build with the envelope reads.
/// </summary>
internal sealed record KvCommand(
    WriteKind Kind,
    long Epoch,
    ClientSession Session,
    byte[] Key,
    byte[]? Value,
    byte[]? Expected,
    long ProposedAtMs = 0,
    long ExpiresAtMs = 0,
    bool KeepExpiry = false,
    ExpireCondition Condition = ExpireCondition.Always)
{
    /// <summary>expiresAt, keepExpiry, condition: what a timed write adds after the write body.</summary>
    private const int TimedTrailer = 8 + 1 + 1;

    /// <summary>True when the command must travel as a <see cref="CommandType.TimedWrite"/>.</summary>
    public bool Timed => ExpiresAtMs != 0 || KeepExpiry || Condition != ExpireCondition.Always || Kind == WriteKind.Expire;

    /// <summary>kind, epoch, session id, sequence: the part every write layout starts with.</summary>
    private const int FixedWithoutTimestamp = 1 + 8 + 16 + 8;

    private const int Fixed = FixedWithoutTimestamp + 8;

    /// <summary>
    /// The command of a client's write as proposed at <paramref name="proposedAtMs"/> by the leader's clock: a time to
    /// live becomes an absolute expiry here, once, so every replica and every apply agree on it. A time to live that
    /// has already run out gives an expiry at or before the proposal time, which applies as "expired at once"
    /// (never 0, which means no expiry).
    /// </summary>
    public static KvCommand From(WriteRequest request, long proposedAtMs)
    {
        long expiresAt = request.TtlMs is { } ttl ? ExpiryFromTtl(proposedAtMs, ttl) : request.ExpiresAtMs;
        return new(request.Kind, request.Epoch, request.Session, request.Key, request.Value, request.Expected, proposedAtMs, expiresAt, request.KeepExpiry, request.ExpireCondition);
    }

    /// <summary>The absolute expiry of a time to live that starts at <paramref name="nowMs"/>; at least 1 (0 means none).</summary>
    public static long ExpiryFromTtl(long nowMs, long ttlMs) =>
        ttlMs <= 0 ? 1 : Math.Max(1, nowMs > long.MaxValue - ttlMs ? long.MaxValue : nowMs + ttlMs);

    public byte[] Encode()
    {
        bool timed = Timed;
        int size = CommandEnvelope.HeaderSize + Fixed + 4 + Key.Length + 1 + (Value is null ? 0 : 4 + Value.Length) + 1 + (Expected is null ? 0 : 4 + Expected.Length)
            + (timed ? TimedTrailer : 0);
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        CommandEnvelope.WriteHeader(span, timed ? CommandType.TimedWrite : CommandType.Write);
        int at = CommandEnvelope.HeaderSize;
        span[at] = (byte)Kind;
        BinaryPrimitives.WriteInt64LittleEndian(span[(at + 1)..], Epoch);
        Session.SessionId.TryWriteBytes(span[(at + 9)..]);
        BinaryPrimitives.WriteInt64LittleEndian(span[(at + 25)..], Session.Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[(at + 33)..], ProposedAtMs);
        at += Fixed;
        at = Put(span, at, Key);
        at = PutOptional(span, at, Value);
        at = PutOptional(span, at, Expected);
        if (timed)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], ExpiresAtMs);
            span[at + 8] = KeepExpiry ? (byte)1 : (byte)0;
            span[at + 9] = (byte)Condition;
        }

        return buffer;
    }

    /// <summary>The entry of an expire-sessions command (see <see cref="ExpireSessionsCommand"/>).</summary>
    public static byte[] EncodeExpireSessions(long cutoffMs) => new ExpireSessionsCommand(cutoffMs).Encode();

    /// <summary>
    /// True (with the cutoff) when <paramref name="data"/> is an expire-sessions command; false for any other
    /// entry, including one whose header this build cannot read (<see cref="Decode"/> then reports it).
    /// </summary>
    /// <exception cref="CommandFormatException">The header says expire-sessions but the body is damaged.</exception>
    public static bool TryDecodeExpireSessions(ReadOnlySpan<byte> data, out long cutoffMs)
    {
        cutoffMs = 0;
        if (!CommandEnvelope.TryReadHeader(data, out var header) || header.Type != CommandType.ExpireSessions)
        {
            return false;
        }

        cutoffMs = ExpireSessionsCommand.Decode(header, data).CutoffMs;
        return true;
    }

    /// <summary>Decodes a write command. Key, value and expected are copies: the entry may be reused afterwards.</summary>
    /// <exception cref="CommandFormatException">The entry is not a well-formed write command (or holds another command).</exception>
    /// <exception cref="UnsupportedCommandException">An envelope version, command type or write kind this build does not know.</exception>
    public static KvCommand Decode(ReadOnlySpan<byte> data)
    {
        var header = CommandEnvelope.ReadHeader(data);
        if (header.Type is not (CommandType.Write or CommandType.TimedWrite))
        {
            ThrowNotAWrite(header.Type);
        }

        return Decode(header, data);
    }

    /// <summary>Decodes the body of an entry whose header is <paramref name="header"/> (type Write or TimedWrite).</summary>
    internal static KvCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        bool timed = !header.IsLegacy || data[0] == CommandEnvelope.LegacyTimedWriteTag;
        bool expiring = header.Type == CommandType.TimedWrite;
        int at = header.BodyOffset;
        if (data.Length - at < (timed ? Fixed : FixedWithoutTimestamp))
        {
            ThrowMalformed("is truncated", data.Length);
        }

        var kind = (WriteKind)data[at];
        if (kind is not (WriteKind.Put or WriteKind.Delete or WriteKind.CompareAndSwap) && !(expiring && kind == WriteKind.Expire))
        {
            ThrowUnknownKind(header, kind);
        }

        long epoch = BinaryPrimitives.ReadInt64LittleEndian(data[(at + 1)..]);
        var session = new ClientSession(new Guid(data.Slice(at + 9, 16)), BinaryPrimitives.ReadInt64LittleEndian(data[(at + 25)..]));
        long proposedAt = 0;
        at += FixedWithoutTimestamp;
        if (timed)
        {
            proposedAt = BinaryPrimitives.ReadInt64LittleEndian(data[at..]);
            at += 8;
        }

        var key = Get(data, ref at);
        var value = GetOptional(data, ref at);
        var expected = GetOptional(data, ref at);
        long expiresAt = 0;
        bool keep = false;
        var condition = ExpireCondition.Always;
        if (expiring)
        {
            if (data.Length - at < TimedTrailer)
            {
                ThrowMalformed("is truncated inside its expiry at offset", at);
            }

            expiresAt = BinaryPrimitives.ReadInt64LittleEndian(data[at..]);
            byte keepFlag = data[at + 8];
            if (keepFlag > 1)
            {
                ThrowMalformed("has a keep-expiry flag other than 0 or 1:", keepFlag);
            }

            keep = keepFlag == 1;
            condition = (ExpireCondition)data[at + 9];
            if (condition > ExpireCondition.IfEarlier)
            {
                // A condition a newer build added: upgrading reads it, nothing is damaged.
                throw new UnsupportedCommandException(header.Version, (byte)header.Type, $"an expiry condition {(byte)condition}, unknown to this build");
            }

            at += TimedTrailer;
        }

        if (at != data.Length)
        {
            ThrowMalformed("has trailing bytes:", data.Length - at);
        }

        return new KvCommand(kind, epoch, session, key, value, expected, proposedAt, expiresAt, keep, condition);
    }

    private static int Put(Span<byte> span, int at, byte[] bytes)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], bytes.Length);
        bytes.CopyTo(span[(at + 4)..]);
        return at + 4 + bytes.Length;
    }

    private static int PutOptional(Span<byte> span, int at, byte[]? bytes)
    {
        span[at++] = bytes is null ? (byte)0 : (byte)1;
        return bytes is null ? at : Put(span, at, bytes);
    }

    private static byte[] Get(ReadOnlySpan<byte> data, ref int at)
    {
        if (data.Length - at < 4)
        {
            ThrowMalformed("is truncated inside a length field at offset", at);
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(data[at..]);
        if (length < 0 || length > data.Length - at - 4)
        {
            ThrowMalformed("has a field length past its end:", length);
        }

        var bytes = data.Slice(at + 4, length).ToArray();
        at += 4 + length;
        return bytes;
    }

    private static byte[]? GetOptional(ReadOnlySpan<byte> data, ref int at)
    {
        if (at >= data.Length)
        {
            ThrowMalformed("is truncated before a presence flag at offset", at);
        }

        byte flag = data[at++];
        if (flag > 1)
        {
            ThrowMalformed("has a presence flag other than 0 or 1:", flag);
        }

        return flag == 0 ? null : Get(data, ref at);
    }

    // The throws live out of line so the decoding methods stay small enough for the JIT to inline their helpers.
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMalformed(string what, int value) =>
        throw new CommandFormatException($"Write command {what} {value}.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotAWrite(CommandType type) =>
        throw new CommandFormatException($"Log entry holds a {type} command, not a write.");

    /// <summary>Legacy builds only ever wrote kinds 1-3, so another kind there is damage; in an envelope it may be a
    /// kind a newer build added.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowUnknownKind(CommandHeader header, WriteKind kind) =>
        throw (header.IsLegacy
            ? new CommandFormatException($"Legacy write command has kind {(byte)kind}.")
            : new UnsupportedCommandException(header.Version, (byte)CommandType.Write, $"a write of kind {(byte)kind}, unknown to this build"));
}
