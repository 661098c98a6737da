namespace NoKv.Replica.Commands.Txn;

/// <summary>
/// Asks a transaction's primary what became of it, deciding when undecided: a primary lock past its TTL (by
/// <see cref="ProposedAtMs"/>, the proposing leader's clock) is rolled back, and a primary with neither lock nor
/// status (its prewrite has not arrived) is recorded rolled back, so that prewrite can never succeed later, but only
/// when <see cref="RollbackIfAbsent"/> (the caller saw one of the transaction's other locks expire): a prewrite
/// may still be on its way to a live transaction's primary.
/// <code>
/// envelope(TxnCheckStatus) | epoch (8) | startTs (8) | proposedAtMs (8) | rollbackIfAbsent (1) | primary:bytes
/// </code>
/// </summary>
internal sealed record TxnCheckStatusCommand(long Epoch, long StartTs, long ProposedAtMs, bool RollbackIfAbsent, byte[] PrimaryKey)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.TxnCheckStatus);
        w.Int64(Epoch);
        w.Int64(StartTs);
        w.Int64(ProposedAtMs);
        w.Byte(RollbackIfAbsent ? (byte)1 : (byte)0);
        w.Bytes(PrimaryKey);
        return w.ToArray();
    }

    public static TxnCheckStatusCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "CheckStatus");
        long epoch = r.Int64(), startTs = r.Int64(), proposedAt = r.Int64();
        byte flag = r.Byte();
        if (flag > 1)
        {
            throw new CommandFormatException($"CheckStatus command has a rollback flag {flag}, not 0 or 1.");
        }

        var command = new TxnCheckStatusCommand(epoch, startTs, proposedAt, flag == 1, r.Bytes());
        r.End();
        return command;
    }
}
