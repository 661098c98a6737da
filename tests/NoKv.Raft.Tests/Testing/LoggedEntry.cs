namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// The identity and content of one log entry as the checkers see it, independent of the library's
/// entry type (so the checkers can be tested alone). Payloads are compared by content.
/// </summary>
public readonly record struct LoggedEntry(ulong Index, ulong Term, byte Type, ReadOnlyMemory<byte> Data)
{
    public bool SameContent(in LoggedEntry other) =>
        Index == other.Index && Term == other.Term && Type == other.Type && Data.Span.SequenceEqual(other.Data.Span);

    public override string ToString() => $"{Term}/{Index} t{Type} {Convert.ToHexString(Data.Span[..Math.Min(Data.Length, 24)])}";
}
