namespace NoKv.Storage;

/// <summary>What replaying the write-ahead logs at open found and dropped. Immutable.</summary>
public sealed class WalRecoveryReport
{
    /// <summary>Logs read at open (those not yet flushed to tables).</summary>
    public int LogsRead { get; init; }

    /// <summary>Write batches replayed into the memtable.</summary>
    public long BatchesReplayed { get; init; }

    /// <summary>
    /// Bytes of log data (non-zero bytes up to the end of each file) that were not replayed because they follow the
    /// first damaged record; 0 when every log ended cleanly.
    /// </summary>
    public long DroppedBytes { get; init; }

    /// <summary>The log whose records stopped short of a clean end; null when every log ended cleanly.</summary>
    public string? DamagedLog { get; init; }

    /// <summary>Offset in <see cref="DamagedLog"/> of the first record that could not be read whole.</summary>
    public long DamageOffset { get; init; }

    /// <summary>What was wrong at <see cref="DamageOffset"/>.</summary>
    public string? DamageReason { get; init; }

    /// <summary>
    /// Whether intact chunks followed the damage in <see cref="DamagedLog"/>: a hole (an earlier unsynced page lost
    /// while later ones survived) rather than a torn end.
    /// </summary>
    public bool IntactDataAfterDamage { get; init; }

    /// <summary>Logs after <see cref="DamagedLog"/> that were not replayed (they held no intact record).</summary>
    public int LaterLogsDropped { get; init; }

    public override string ToString() => DamagedLog is null
        ? $"WAL recovery: {LogsRead} log(s) ended cleanly, {BatchesReplayed} batch(es) replayed, nothing dropped."
        : $"WAL recovery: dropped {DroppedBytes} byte(s) of unsynced log data from '{DamagedLog}' at offset {DamageOffset} ({DamageReason}" +
          (IntactDataAfterDamage ? "; intact records followed, no durability mark covered them)" : ")") +
          (LaterLogsDropped > 0 ? $" and {LaterLogsDropped} later log(s) without intact records" : string.Empty) +
          $"; {BatchesReplayed} batch(es) replayed from {LogsRead} log(s).";
}
