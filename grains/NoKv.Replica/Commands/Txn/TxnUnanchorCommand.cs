namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// Marks the shard unanchored (<see cref="Mvcc.MvccFloor.Unanchored"/>): it is about to hold plain writes that were
/// stamped from replicated state alone and acknowledged without a timestamp from the oracle (a new leader that could not
/// reach the oracle, or a write whose stamp no reserved block covers). Proposed in the same append before the first
/// such write of a term, or applied before such a write is acknowledged. Transactional reads, validations, prewrites
/// and one-phase commits are refused until a <see cref="TxnAnchorCommand"/> clears the mark (docs/transactions.md).
/// <code>
/// envelope(TxnUnanchor)
/// </code>
/// </summary>
internal sealed record TxnUnanchorCommand
{
    public static readonly TxnUnanchorCommand Instance = new();

    public byte[] Encode() => new CommandWriter(CommandType.TxnUnanchor).ToArray();

    public static TxnUnanchorCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "Unanchor");
        r.End();
        return Instance;
    }
}
