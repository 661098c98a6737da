using NoKv.Abstractions.Transactions;

namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// A whole transaction whose reads and writes all lie in one shard: validated and committed atomically by one
/// apply, with a commit timestamp the shard stamps itself (above its read floor and every version it holds). The
/// first mutation's key records the outcome like a primary, so a retried command is answered, not re-judged.
/// <code>
/// envelope(TxnOnePhase) | epoch (8) | startTs (8) | proposedAtMs (8) | mutations:list | readKeys:list of bytes
///                       | ranges:list of (start:bytes | end:bytes)
/// </code>
/// </summary>
internal sealed record TxnOnePhaseCommand(long Epoch, long StartTs, long ProposedAtMs, TxnMutation[] Mutations, byte[][] ReadKeys, TxnKeyRange[] Ranges)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.TxnOnePhase);
        w.Int64(Epoch);
        w.Int64(StartTs);
        w.Int64(ProposedAtMs);
        w.Mutations(Mutations);
        w.KeyList(ReadKeys);
        w.Ranges(Ranges);
        return w.ToArray();
    }

    public static TxnOnePhaseCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "OnePhase");
        var command = new TxnOnePhaseCommand(r.Int64(), r.Int64(), r.Int64(), r.Mutations(), r.KeyList(), r.Ranges());
        r.End();
        return command;
    }
}
