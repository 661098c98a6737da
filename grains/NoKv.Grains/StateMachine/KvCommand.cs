using System.Buffers.Binary;
using NoKv.Abstractions.Requests;

namespace NoKv.Grains.StateMachine;

/// <summary>
/// A write as stored in a Raft log entry. Format (little-endian), version 1; on disk in every log, so
/// extend only with a new version byte:
/// <code>
/// version (1) = 1 | kind (1) | epoch (8) | session id (16) | sequence (8)
/// | keyLength (4) | key | hasValue (1) [valueLength (4) | value] | hasExpected (1) [expectedLength (4) | expected]
/// </code>
/// </summary>
internal sealed record KvCommand(WriteKind Kind, long Epoch, ClientSession Session, byte[] Key, byte[]? Value, byte[]? Expected)
{
    private const byte Version = 1;

    public static KvCommand From(WriteRequest request) =>
        new(request.Kind, request.Epoch, request.Session, request.Key, request.Value, request.Expected);

    public byte[] Encode()
    {
        int size = 1 + 1 + 8 + 16 + 8 + 4 + Key.Length + 1 + (Value is null ? 0 : 4 + Value.Length) + 1 + (Expected is null ? 0 : 4 + Expected.Length);
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        span[0] = Version;
        span[1] = (byte)Kind;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], Epoch);
        Session.SessionId.TryWriteBytes(span[10..]);
        BinaryPrimitives.WriteInt64LittleEndian(span[26..], Session.Sequence);
        int at = 34;
        at = Put(span, at, Key);
        at = PutOptional(span, at, Value);
        PutOptional(span, at, Expected);
        return buffer;
    }

    /// <exception cref="FormatException">The payload is not a version-1 command.</exception>
    public static KvCommand Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 34 || data[0] != Version)
        {
            throw new FormatException("Not a NoKV version-1 command entry.");
        }

        var kind = (WriteKind)data[1];
        long epoch = BinaryPrimitives.ReadInt64LittleEndian(data[2..]);
        var session = new ClientSession(new Guid(data.Slice(10, 16)), BinaryPrimitives.ReadInt64LittleEndian(data[26..]));
        int at = 34;
        var key = Get(data, ref at);
        var value = GetOptional(data, ref at);
        var expected = GetOptional(data, ref at);
        return new KvCommand(kind, epoch, session, key, value, expected);
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
