namespace NoKv.Replica.Commands.Txn;

/// <summary>Dispatch over the transaction command types (20-30, docs/format-commands.md).</summary>
internal static class TxnCommands
{
    public static bool IsTxn(CommandType type) => type is >= CommandType.TxnPrewrite and <= CommandType.TxnOnePhasePrimary;

    /// <summary>Decodes the body of a transaction command whose header is <paramref name="header"/>.</summary>
    /// <exception cref="CommandFormatException">The body is damaged.</exception>
    public static object Decode(CommandHeader header, ReadOnlySpan<byte> data) => header.Type switch
    {
        CommandType.TxnPrewrite => TxnPrewriteCommand.Decode(header, data),
        CommandType.TxnCommit => TxnCommitCommand.Decode(header, data),
        CommandType.TxnRollback => TxnRollbackCommand.Decode(header, data),
        CommandType.TxnCheckStatus => TxnCheckStatusCommand.Decode(header, data),
        CommandType.TxnOnePhase or CommandType.TxnOnePhasePrimary => TxnOnePhaseCommand.Decode(header, data),
        CommandType.TxnRaiseReadTs => TxnRaiseReadTsCommand.Decode(header, data),
        CommandType.TxnGc => TxnGcCommand.Decode(header, data),
        CommandType.TxnUnanchor => TxnUnanchorCommand.Decode(header, data),
        CommandType.TxnAnchor => TxnAnchorCommand.Decode(header, data),
        CommandType.TxnCollect => TxnCollectCommand.Decode(header, data),
        _ => throw new CommandFormatException($"Log entry holds a {header.Type} command, not a transaction command."),
    };
}
