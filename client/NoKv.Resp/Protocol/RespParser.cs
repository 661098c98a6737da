using System.Buffers;

namespace NoKv.Resp.Protocol;

/// <summary>
/// Parses client requests: RESP multibulk arrays of bulk strings (what every client library sends) and inline
/// commands (what a person types over telnet), with Redis's quoting rules. Every length is checked against the
/// limits before anything is buffered, so a hostile length prefix cannot make the gateway allocate.
/// <para>Two passes: the first walks the headers and only checks that the whole command is present (skipping
/// bulk payloads without touching them); the second copies the arguments into the request's arena. A command
/// that arrives in many reads is therefore re-walked, but never re-copied, until it is complete.</para>
/// Stateless and thread-safe; the error text follows redis-server's wording ("Protocol error: ...").
/// </summary>
internal static class RespParser
{
    /// <summary>
    /// Parses one command from the front of <paramref name="input"/>. On Complete and Empty, input is advanced
    /// past the command; on Incomplete it is unchanged; on Error, <paramref name="error"/> says why.
    /// </summary>
    public static RespParseStatus TryParse(ref ReadOnlySequence<byte> input, RespRequest request, in RespParserLimits limits, out string? error)
    {
        error = null;
        if (input.IsEmpty)
        {
            return RespParseStatus.Incomplete;
        }

        var first = input.FirstSpan[0];
        return first == (byte)'*'
            ? ParseMultibulk(ref input, request, limits, out error)
            : ParseInline(ref input, request, limits, out error);
    }

    private static RespParseStatus ParseMultibulk(ref ReadOnlySequence<byte> input, RespRequest request, in RespParserLimits limits, out string? error)
    {
        var reader = new SequenceReader<byte>(input);
        reader.Advance(1);
        var status = ReadLength(ref reader, maxDigits: 20, out long count, out error, "invalid multibulk length", "too big mbulk count string");
        if (status != RespParseStatus.Complete)
        {
            return status;
        }

        if (count <= 0)
        {
            input = input.Slice(reader.Position);
            return RespParseStatus.Empty;
        }

        if (count > limits.MaxArguments)
        {
            error = "Protocol error: invalid multibulk length";
            return RespParseStatus.Error;
        }

        // Pass 1: headers only. Every payload is skipped, so an incomplete request costs no copying.
        var start = reader.Position;
        long total = 0;
        for (long i = 0; i < count; i++)
        {
            status = ReadBulkHeader(ref reader, limits, out long length, out error);
            if (status != RespParseStatus.Complete)
            {
                return status;
            }

            total += length;
            if (total > limits.MaxRequestBytes)
            {
                error = "Protocol error: request too large";
                return RespParseStatus.Error;
            }

            if (reader.Remaining < length + 2)
            {
                return RespParseStatus.Incomplete;
            }

            reader.Advance(length);
            if (!reader.IsNext("\r\n"u8, advancePast: true))
            {
                error = "Protocol error: bulk string not terminated by CRLF";
                return RespParseStatus.Error;
            }
        }

        // Pass 2: the command is all there; copy its arguments out.
        var end = reader.Position;
        reader = new SequenceReader<byte>(input.Slice(start, end));
        request.Reset();
        for (long i = 0; i < count; i++)
        {
            ReadBulkHeader(ref reader, limits, out long length, out _);
            var payload = reader.UnreadSequence.Slice(0, length);
            request.Add(payload);
            reader.Advance(length + 2);
        }

        input = input.Slice(end);
        return RespParseStatus.Complete;
    }

    private static RespParseStatus ReadBulkHeader(ref SequenceReader<byte> reader, in RespParserLimits limits, out long length, out string? error)
    {
        length = 0;
        if (!reader.TryRead(out byte marker))
        {
            error = null;
            return RespParseStatus.Incomplete;
        }

        if (marker != (byte)'$')
        {
            error = $"Protocol error: expected '$', got '{(marker is >= 0x20 and < 0x7f ? (char)marker : '?')}'";
            return RespParseStatus.Error;
        }

        var status = ReadLength(ref reader, maxDigits: 20, out length, out error, "invalid bulk length", "too big bulk count string");
        if (status == RespParseStatus.Complete && (length < 0 || length > limits.MaxBulkBytes))
        {
            error = "Protocol error: invalid bulk length";
            return RespParseStatus.Error;
        }

        return status;
    }

    /// <summary>Reads a decimal length terminated by CRLF. A header line longer than any valid one is an error, not a wait.</summary>
    private static RespParseStatus ReadLength(ref SequenceReader<byte> reader, int maxDigits, out long value, out string? error, string invalid, string tooLong)
    {
        value = 0;
        error = null;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
        {
            if (reader.Remaining > maxDigits + 2)
            {
                error = "Protocol error: " + tooLong;
                return RespParseStatus.Error;
            }

            return RespParseStatus.Incomplete;
        }

        if (line.Length < 1 || line.Length > maxDigits + 1)
        {
            error = "Protocol error: " + invalid;
            return RespParseStatus.Error;
        }

        Span<byte> digits = stackalloc byte[(int)line.Length];
        line.CopyTo(digits);
        if (digits[^1] != (byte)'\r' || !RespAscii.TryParseInt64(digits[..^1], out value))
        {
            error = "Protocol error: " + invalid;
            return RespParseStatus.Error;
        }

        return RespParseStatus.Complete;
    }

    private static RespParseStatus ParseInline(ref ReadOnlySequence<byte> input, RespRequest request, in RespParserLimits limits, out string? error)
    {
        error = null;
        var reader = new SequenceReader<byte>(input);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
        {
            if (input.Length > limits.MaxInlineBytes)
            {
                error = "Protocol error: too big inline request";
                return RespParseStatus.Error;
            }

            return RespParseStatus.Incomplete;
        }

        if (line.Length > limits.MaxInlineBytes)
        {
            error = "Protocol error: too big inline request";
            return RespParseStatus.Error;
        }

        byte[]? rented = null;
        try
        {
            int length = (int)line.Length;
            Span<byte> text = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
            line.CopyTo(text);
            if (!text.IsEmpty && text[^1] == (byte)'\r')
            {
                text = text[..^1];
            }

            request.Reset();
            if (!InlineSplitter.TrySplit(text, request, limits.MaxArguments))
            {
                error = "Protocol error: unbalanced quotes in request";
                return RespParseStatus.Error;
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        input = input.Slice(reader.Position);
        return request.Count == 0 ? RespParseStatus.Empty : RespParseStatus.Complete;
    }
}
