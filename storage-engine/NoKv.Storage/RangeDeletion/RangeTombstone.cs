namespace NoKv.Storage.RangeDeletion;

/// <summary>
/// Deletes every version with a sequence number below <see cref="Sequence"/> of every user key in
/// [<see cref="Start"/>, <see cref="End"/>). Immutable; the arrays are never modified after construction.
/// </summary>
internal sealed record RangeTombstone(byte[] Start, byte[] End, ulong Sequence)
{
    public bool Contains(ReadOnlySpan<byte> userKey) =>
        userKey.SequenceCompareTo(Start) >= 0 && userKey.SequenceCompareTo(End) < 0;
}
