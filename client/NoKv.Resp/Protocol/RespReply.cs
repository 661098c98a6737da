using System.Text;

namespace NoKv.Resp.Protocol;

/// <summary>
/// A reply held as a value, for commands whose reply is decided before it can be sent (a transaction's
/// replies are kept until it commits; a retried compare-and-swap discards the reply of the losing attempt).
/// Immutable.
/// </summary>
internal readonly struct RespReply
{
    private RespReply(RespReplyKind kind, long integer = 0, byte[]? bytes = null, string? text = null, RespReply[]? items = null)
    {
        Kind = kind;
        Integer = integer;
        Bytes = bytes;
        Text = text;
        Items = items;
    }

    public RespReplyKind Kind { get; }

    public long Integer { get; }

    public byte[]? Bytes { get; }

    /// <summary>Simple string or error text (ASCII, no CR or LF).</summary>
    public string? Text { get; }

    /// <summary>Array elements, or for a map the keys and values interleaved.</summary>
    public RespReply[]? Items { get; }

    public static RespReply Ok { get; } = Simple("OK");

    public static RespReply Nil { get; } = new(RespReplyKind.Null);

    public static RespReply NilArray { get; } = new(RespReplyKind.NullArray);

    public static RespReply Zero { get; } = new(RespReplyKind.Integer, 0);

    public static RespReply One { get; } = new(RespReplyKind.Integer, 1);

    public static RespReply Simple(string text) => new(RespReplyKind.SimpleString, text: text);

    /// <summary>An error; <paramref name="text"/> starts with its code (ERR, WRONGTYPE, EXECABORT, ...).</summary>
    public static RespReply Error(string text) => new(RespReplyKind.Error, text: text);

    public static RespReply Int(long value) => value switch
    {
        0 => Zero,
        1 => One,
        _ => new(RespReplyKind.Integer, value),
    };

    public static RespReply Bulk(byte[]? value) => value is null ? Nil : new(RespReplyKind.Bulk, bytes: value);

    public static RespReply Bulk(string value) => new(RespReplyKind.Bulk, bytes: Encoding.UTF8.GetBytes(value));

    public static RespReply Array(RespReply[] items) => new(RespReplyKind.Array, items: items);

    public static RespReply Map(RespReply[] keysAndValues) => new(RespReplyKind.Map, items: keysAndValues);

    public bool IsError => Kind == RespReplyKind.Error;

    public override string ToString() => Kind switch
    {
        RespReplyKind.SimpleString => "+" + Text,
        RespReplyKind.Error => "-" + Text,
        RespReplyKind.Integer => ":" + Integer,
        RespReplyKind.Bulk => "$" + Encoding.UTF8.GetString(Bytes!),
        RespReplyKind.Null or RespReplyKind.NullArray => "(nil)",
        _ => (Kind == RespReplyKind.Map ? "%" : "*") + "[" + string.Join(", ", Items!.Select(i => i.ToString())) + "]",
    };
}
