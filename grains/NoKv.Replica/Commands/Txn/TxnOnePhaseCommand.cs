using NoKv.Abstractions.Transactions;

namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// A whole transaction whose reads and writes all lie in one shard: validated and committed atomically by one
/// apply, with a commit timestamp the shard stamps itself (above its read floor and every version it holds). The
/// first mutation's key records the outcome like a primary, so a retried command is answered, not re-judged.
/// <para>With <see cref="MinCommitTs"/> set (type <see cref="CommandType.TxnOnePhasePrimary"/>) it is the primary's
/// shard of a transaction whose other shards are prewritten (docs/transactions.md, "Primary in one phase"): the
/// stamp is also above <see cref="MinCommitTs"/>, and a transaction already recorded rolled back is refused.</para>
/// <code>
/// envelope(TxnOnePhase)        | epoch (8) | startTs (8) | proposedAtMs (8) | mutations:list | readKeys:list of bytes
///                              | ranges:list of (start:bytes | end:bytes)
/// envelope(TxnOnePhasePrimary) | the same | minCommitTs (8)
/// </code>
/// </summary>
internal sealed record TxnOnePhaseCommand(long Epoch, long StartTs, long ProposedAtMs, TxnMutation[] Mutations, byte[][] ReadKeys, TxnKeyRange[] Ranges, long? MinCommitTs = null)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(MinCommitTs is null ? CommandType.TxnOnePhase : CommandType.TxnOnePhasePrimary);
        w.Int64(Epoch);
        w.Int64(StartTs);
        w.Int64(ProposedAtMs);
        w.Mutations(Mutations);
        w.KeyList(ReadKeys);
        w.Ranges(Ranges);
        if (MinCommitTs is { } min)
        {
            w.Int64(min);
        }

        return w.ToArray();
    }

    public static TxnOnePhaseCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, header.Type == CommandType.TxnOnePhasePrimary ? "OnePhasePrimary" : "OnePhase");
        var command = new TxnOnePhaseCommand(r.Int64(), r.Int64(), r.Int64(), r.Mutations(), r.KeyList(), r.Ranges());
        if (header.Type == CommandType.TxnOnePhasePrimary)
        {
            command = command with { MinCommitTs = r.Int64() };
        }

        r.End();
        return command;
    }
}
