namespace NoKv.Storage.Wal;

/// <summary>
/// Where a log's intact prefix stopped short of a clean end: <paramref name="Offset"/> is the start of the first
/// record that could not be read whole (a multi-chunk record's first chunk when a later chunk is bad), and
/// <paramref name="Reason"/> says what was wrong and at which chunk.
/// </summary>
internal sealed record LogDamage(long Offset, string Reason);
