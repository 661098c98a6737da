namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// Turns a transaction's locks on <see cref="Keys"/> into versions at <see cref="CommitTs"/>; on the primary it
/// also records the transaction committed. Used by the client (primary first, then the rest) and by resolvers
/// rolling a committed transaction forward. <see cref="PrimaryKey"/> is set when the primary is among the keys:
/// a primary that holds neither the lock nor a commit record fails the whole command (the transaction was rolled
/// back), while a secondary without the lock was already committed by a resolver.
/// <code>
/// envelope(TxnCommit) | epoch (8) | startTs (8) | commitTs (8) | hasPrimary (1) [primary:bytes] | keys:list of bytes
/// </code>
/// </summary>
internal sealed record TxnCommitCommand(long Epoch, long StartTs, long CommitTs, byte[]? PrimaryKey, byte[][] Keys)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.TxnCommit);
        w.Int64(Epoch);
        w.Int64(StartTs);
        w.Int64(CommitTs);
        w.OptionalBytes(PrimaryKey);
        w.KeyList(Keys);
        return w.ToArray();
    }

    public static TxnCommitCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "Commit");
        var command = new TxnCommitCommand(r.Int64(), r.Int64(), r.Int64(), r.OptionalBytes(), r.KeyList());
        r.End();
        return command;
    }
}
