namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// One slice of a GC round that also collects transaction status rows (docs/transactions.md, "GC"). Like
/// <see cref="TxnGcCommand"/> it drops shadowed versions below <see cref="SafePoint"/> over at most
/// <see cref="MaxKeys"/> user keys from <see cref="FromKey"/>, and in addition:
/// <list type="bullet">
/// <item>raises the shard's lock floor to <see cref="LockFloor"/>: no prewrite or one-phase commit that started below
/// it is accepted from this entry on, so no lock below it can appear in a slice the round has already walked;</item>
/// <item>reports the oldest lock it walked past and the locks below the lock floor (to be resolved through their
/// primaries), with the epoch it applied at, so the leader can tell whether the whole round saw one range;</item>
/// <item>raises the shard's status floor to the lower of <see cref="StatusBelow"/> (the cluster's status-collection
/// point: no lock below it anywhere) and the lock floor, and drops the status rows below it in the slice.</item>
/// </list>
/// <code>
/// envelope(TxnCollect) | safePoint (8) | proposedAtMs (8) | maxKeys (4) | lockFloor (8) | statusBelow (8) | fromKey:bytes
/// </code>
/// </summary>
internal sealed record TxnCollectCommand(long SafePoint, long ProposedAtMs, int MaxKeys, long LockFloor, long StatusBelow, byte[] FromKey)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.TxnCollect);
        w.Int64(SafePoint);
        w.Int64(ProposedAtMs);
        w.Int32(MaxKeys);
        w.Int64(LockFloor);
        w.Int64(StatusBelow);
        w.Bytes(FromKey);
        return w.ToArray();
    }

    public static TxnCollectCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "Collect");
        long safePoint = r.Int64(), proposedAt = r.Int64();
        int maxKeys = r.Int32();
        if (maxKeys <= 0)
        {
            throw new CommandFormatException($"Collect command walks {maxKeys} keys per slice, not a positive number.");
        }

        var command = new TxnCollectCommand(safePoint, proposedAt, maxKeys, r.Int64(), r.Int64(), r.Bytes());
        r.End();
        return command;
    }
}
