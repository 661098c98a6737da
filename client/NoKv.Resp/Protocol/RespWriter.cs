using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace NoKv.Resp.Protocol;

/// <summary>
/// Writes RESP replies into a buffer writer (the connection's PipeWriter) in the protocol version the
/// connection negotiated. Nothing is flushed here: the connection flushes once per batch of pipelined commands.
/// Not thread-safe: one per connection.
/// </summary>
internal sealed class RespWriter
{
    private readonly IBufferWriter<byte> _output;

    public RespWriter(IBufferWriter<byte> output) => _output = output;

    /// <summary>2 or 3 (HELLO switches it).</summary>
    public int Protocol { get; set; } = 2;

    public void WriteSimple(string text)
    {
        WriteByte((byte)'+');
        WriteAscii(text);
        WriteCrlf();
    }

    public void WriteOk() => WriteRaw("+OK\r\n"u8);

    public void WriteQueued() => WriteRaw("+QUEUED\r\n"u8);

    public void WriteError(string text)
    {
        WriteByte((byte)'-');

        // An error line cannot carry CR or LF; Redis replaces them with spaces too.
        foreach (var c in text)
        {
            WriteByte(c is '\r' or '\n' ? (byte)' ' : c < 0x80 ? (byte)c : (byte)'?');
        }

        WriteCrlf();
    }

    public void WriteInteger(long value)
    {
        WriteByte((byte)':');
        WriteNumber(value);
        WriteCrlf();
    }

    public void WriteBulk(ReadOnlySpan<byte> value)
    {
        WriteByte((byte)'$');
        WriteNumber(value.Length);
        WriteCrlf();
        WriteRaw(value);
        WriteCrlf();
    }

    public void WriteBulk(string value) => WriteBulk(Encoding.UTF8.GetBytes(value));

    public void WriteNull() => WriteRaw(Protocol == 3 ? "_\r\n"u8 : "$-1\r\n"u8);

    public void WriteNullArray() => WriteRaw(Protocol == 3 ? "_\r\n"u8 : "*-1\r\n"u8);

    public void WriteArrayHeader(int count)
    {
        WriteByte((byte)'*');
        WriteNumber(count);
        WriteCrlf();
    }

    /// <summary>A map of <paramref name="pairs"/> entries; in RESP2 a flat array of 2 x pairs elements follows instead.</summary>
    public void WriteMapHeader(int pairs)
    {
        if (Protocol == 3)
        {
            WriteByte((byte)'%');
            WriteNumber(pairs);
            WriteCrlf();
        }
        else
        {
            WriteArrayHeader(pairs * 2);
        }
    }

    public void Write(in RespReply reply)
    {
        switch (reply.Kind)
        {
            case RespReplyKind.SimpleString:
                WriteSimple(reply.Text!);
                break;
            case RespReplyKind.Error:
                WriteError(reply.Text!);
                break;
            case RespReplyKind.Integer:
                WriteInteger(reply.Integer);
                break;
            case RespReplyKind.Bulk:
                WriteBulk(reply.Bytes!);
                break;
            case RespReplyKind.Null:
                WriteNull();
                break;
            case RespReplyKind.NullArray:
                WriteNullArray();
                break;
            case RespReplyKind.Array:
                WriteArrayHeader(reply.Items!.Length);
                foreach (var item in reply.Items)
                {
                    Write(item);
                }

                break;
            case RespReplyKind.Map:
                WriteMapHeader(reply.Items!.Length / 2);
                foreach (var item in reply.Items)
                {
                    Write(item);
                }

                break;
            default:
                throw new InvalidOperationException($"Unknown reply kind {reply.Kind}.");
        }
    }

    private void WriteNumber(long value)
    {
        var span = _output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int written);
        _output.Advance(written);
    }

    private void WriteAscii(string text)
    {
        var span = _output.GetSpan(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            span[i] = c is '\r' or '\n' ? (byte)' ' : c < 0x80 ? (byte)c : (byte)'?';
        }

        _output.Advance(text.Length);
    }

    private void WriteByte(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
    }

    private void WriteCrlf() => WriteRaw("\r\n"u8);

    private void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var span = _output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        _output.Advance(bytes.Length);
    }
}
