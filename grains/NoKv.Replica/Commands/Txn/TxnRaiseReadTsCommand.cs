namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// Raises the shard's read floor (<see cref="Mvcc.MvccFloor.ReadTs"/>) to <see cref="ReadTs"/> before its leader
/// serves snapshot reads up to it; never lowers it.
/// <code>
/// envelope(TxnRaiseReadTs) | readTs (8)
/// </code>
/// </summary>
internal sealed record TxnRaiseReadTsCommand(long ReadTs)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.TxnRaiseReadTs);
        w.Int64(ReadTs);
        return w.ToArray();
    }

    public static TxnRaiseReadTsCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "RaiseReadTs");
        var command = new TxnRaiseReadTsCommand(r.Int64());
        r.End();
        return command;
    }
}
