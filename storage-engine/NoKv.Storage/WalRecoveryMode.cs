namespace NoKv.Storage;

/// <summary>How <see cref="Database.Open"/> treats a write-ahead log whose records stop short of a clean end.</summary>
/// <remarks>
/// Whatever the mode, damage that recovery can prove lies in data a completed fdatasync covered is reported as
/// <see cref="CorruptionException"/> (path and offset of the damaged record), and nothing is replayed past damage
/// (recovery never skips a record and replays later ones). See docs/format-wal.md, "Recovery".
/// </remarks>
public enum WalRecoveryMode
{
    /// <summary>
    /// The default. Replays every log up to the first record that cannot be read whole and drops the rest (of that
    /// log and of any later log), unless a durability mark or a later log proves the damage lies in synced data.
    /// After a power loss or an OS crash the database thus reopens with every write whose sync returned, and with
    /// a prefix of the writes after it (what survived of them, up to the first lost page). How many bytes were
    /// dropped and where is reported in <see cref="StorageStatistics.WalRecovery"/> and to
    /// <see cref="StorageOptions.InfoLog"/>.
    /// </summary>
    PointInTime = 0,

    /// <summary>
    /// Any log that does not end cleanly fails the open with <see cref="CorruptionException"/>, torn tails of
    /// unsynced writes included: for a database known to have been closed cleanly, or to inspect a damaged one
    /// before deciding to accept the loss (by reopening with <see cref="PointInTime"/>).
    /// </summary>
    AbsoluteConsistency = 1,
}
