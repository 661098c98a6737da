namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// Removes a transaction's locks on <see cref="Keys"/>. When <see cref="PrimaryKey"/> is one of them, the
/// transaction is recorded rolled back there (unless it already committed, which wins), so a delayed prewrite
/// or commit of it fails from then on.
/// <code>
/// envelope(TxnRollback) | epoch (8) | startTs (8) | hasPrimary (1) [primary:bytes] | keys:list of bytes
/// </code>
/// </summary>
internal sealed record TxnRollbackCommand(long Epoch, long StartTs, byte[]? PrimaryKey, byte[][] Keys)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.TxnRollback);
        w.Int64(Epoch);
        w.Int64(StartTs);
        w.OptionalBytes(PrimaryKey);
        w.KeyList(Keys);
        return w.ToArray();
    }

    public static TxnRollbackCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "Rollback");
        var command = new TxnRollbackCommand(r.Int64(), r.Int64(), r.OptionalBytes(), r.KeyList());
        r.End();
        return command;
    }
}
