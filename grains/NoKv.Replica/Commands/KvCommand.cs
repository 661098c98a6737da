using System.Buffers.Binary;
using NoKv.Abstractions.Requests;

namespace NoKv.Replica.Commands;

/// <summary>
/// A command as stored in a Raft log entry. Little-endian; the first byte is the format tag, on disk in
/// every log, so never renumber tags and only add new ones:
/// <code>
/// tag 1 (write, no timestamp; read for old logs)
///       1 | kind (1) | epoch (8) | session id (16) | sequence (8) | body
/// tag 2 (write)
///       2 | kind (1) | epoch (8) | session id (16) | sequence (8) | proposed at, Unix ms (8) | body
/// body = keyLength (4) | key | hasValue (1) [valueLength (4) | value] | hasExpected (1) [expectedLength (4) | expected]
/// tag 3 (expire sessions)
///       3 | cutoff, Unix ms (8)      drop dedupe rows last used before the cutoff
/// </code>
/// Timestamps come from the proposing leader's clock and travel inside the entry, so every replica applies
/// the same values and stays deterministic.
/// </summary>
internal sealed record KvCommand(WriteKind Kind, long Epoch, ClientSession Session, byte[] Key, byte[]? Value, byte[]? Expected, long ProposedAtMs = 0)
{
    private const byte LegacyWriteTag = 1;
    private const byte WriteTag = 2;
    private const byte ExpireSessionsTag = 3;

    public static KvCommand From(WriteRequest request, long proposedAtMs) =>
        new(request.Kind, request.Epoch, request.Session, request.Key, request.Value, request.Expected, proposedAtMs);

    public byte[] Encode()
    {
        int size = 1 + 1 + 8 + 16 + 8 + 8 + 4 + Key.Length + 1 + (Value is null ? 0 : 4 + Value.Length) + 1 + (Expected is null ? 0 : 4 + Expected.Length);
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        span[0] = WriteTag;
        span[1] = (byte)Kind;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], Epoch);
        Session.SessionId.TryWriteBytes(span[10..]);
        BinaryPrimitives.WriteInt64LittleEndian(span[26..], Session.Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[34..], ProposedAtMs);
        int at = 42;
        at = Put(span, at, Key);
        at = PutOptional(span, at, Value);
        PutOptional(span, at, Expected);
        return buffer;
    }

    /// <summary>The payload of an expire-sessions command.</summary>
    public static byte[] EncodeExpireSessions(long cutoffMs)
    {
        var buffer = new byte[9];
        buffer[0] = ExpireSessionsTag;
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(1), cutoffMs);
        return buffer;
    }

    /// <summary>True (with the cutoff) when <paramref name="data"/> is an expire-sessions command.</summary>
    public static bool TryDecodeExpireSessions(ReadOnlySpan<byte> data, out long cutoffMs)
    {
        cutoffMs = 0;
        if (data.Length != 9 || data[0] != ExpireSessionsTag)
        {
            return false;
        }

        cutoffMs = BinaryPrimitives.ReadInt64LittleEndian(data[1..]);
        return true;
    }

    /// <exception cref="FormatException">The payload is not a write command.</exception>
    public static KvCommand Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 34 || (data[0] != WriteTag && data[0] != LegacyWriteTag) || (data[0] == WriteTag && data.Length < 42))
        {
            throw new FormatException("Not a NoKV write command entry.");
        }

        var kind = (WriteKind)data[1];
        long epoch = BinaryPrimitives.ReadInt64LittleEndian(data[2..]);
        var session = new ClientSession(new Guid(data.Slice(10, 16)), BinaryPrimitives.ReadInt64LittleEndian(data[26..]));
        long proposedAt = 0;
        int at = 34;
        if (data[0] == WriteTag)
        {
            proposedAt = BinaryPrimitives.ReadInt64LittleEndian(data[34..]);
            at = 42;
        }

        var key = Get(data, ref at);
        var value = GetOptional(data, ref at);
        var expected = GetOptional(data, ref at);
        return new KvCommand(kind, epoch, session, key, value, expected, proposedAt);
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
            throw new FormatException("Command entry is truncated.");
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(data[at..]);
        if (length < 0 || length > data.Length - at - 4)
        {
            throw new FormatException("Command entry field overruns the entry.");
        }

        var bytes = data.Slice(at + 4, length).ToArray();
        at += 4 + length;
        return bytes;
    }

    private static byte[]? GetOptional(ReadOnlySpan<byte> data, ref int at)
    {
        if (at >= data.Length)
        {
            throw new FormatException("Command entry is truncated.");
        }

        return data[at++] == 0 ? null : Get(data, ref at);
    }
}
