namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// Anchors the shard's unanchored plain writes: <see cref="First"/>..<see cref="Last"/> is a block of timestamps the
/// oracle reserved for the shard's leader, asked for after the shard was marked unanchored. If every version the shard
/// holds is at or below <see cref="Last"/> (everything the oracle issues later is above it), the apply clears the mark
/// and raises the safe point to <see cref="First"/>: every timestamp issued before the block is refused from then on,
/// so no snapshot that could miss an unanchored write, or have been served before one landed below it, is ever read
/// or validated again. Otherwise it changes nothing and the leader asks for a larger block. Idempotent.
/// <code>
/// envelope(TxnAnchor) | first (8) | last (8)
/// </code>
/// </summary>
internal sealed record TxnAnchorCommand(long First, long Last)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.TxnAnchor);
        w.Int64(First);
        w.Int64(Last);
        return w.ToArray();
    }

    public static TxnAnchorCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "Anchor");
        var command = new TxnAnchorCommand(r.Int64(), r.Int64());
        r.End();
        return command;
    }
}
