using NoKv.Abstractions.Transactions;

namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// Locks a transaction's writes in one shard (Percolator's prewrite). All or nothing: if any key is locked by
/// another transaction or has a version committed after <see cref="StartTs"/>, nothing is locked.
/// <code>
/// envelope(TxnPrewrite) | epoch (8) | startTs (8) | proposedAtMs (8) | ttlMs (8) | primary:bytes | mutations:list
/// mutation = key:bytes | hasValue (1) [value:bytes]            no value: delete
/// </code>
/// </summary>
internal sealed record TxnPrewriteCommand(long Epoch, long StartTs, long ProposedAtMs, long TtlMs, byte[] PrimaryKey, TxnMutation[] Mutations)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.TxnPrewrite);
        w.Int64(Epoch);
        w.Int64(StartTs);
        w.Int64(ProposedAtMs);
        w.Int64(TtlMs);
        w.Bytes(PrimaryKey);
        w.Mutations(Mutations);
        return w.ToArray();
    }

    public static TxnPrewriteCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "Prewrite");
        var command = new TxnPrewriteCommand(r.Int64(), r.Int64(), r.Int64(), r.Int64(), r.Bytes(), r.Mutations());
        r.End();
        return command;
    }
}
