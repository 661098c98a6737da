namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// Garbage-collects versions below <see cref="SafePoint"/> in one slice of the shard: from <see cref="FromKey"/>
/// (inclusive, empty = the shard's start) over at most <see cref="MaxKeys"/> user keys, keeping for each key the
/// newest version at or below the safe point (dropped too if it is a tombstone or expired) and everything newer.
/// The first slice raises the shard's safe point; reads below it are refused from then on.
/// <code>
/// envelope(TxnGc) | safePoint (8) | proposedAtMs (8) | maxKeys (4) | fromKey:bytes
/// </code>
/// </summary>
internal sealed record TxnGcCommand(long SafePoint, long ProposedAtMs, int MaxKeys, byte[] FromKey)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.TxnGc);
        w.Int64(SafePoint);
        w.Int64(ProposedAtMs);
        w.Int32(MaxKeys);
        w.Bytes(FromKey);
        return w.ToArray();
    }

    public static TxnGcCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "Gc");
        var command = new TxnGcCommand(r.Int64(), r.Int64(), r.Int32(), r.Bytes());
        r.End();
        return command;
    }
}
