namespace NoKv.Replica.Diagnostics;

/// <summary>
/// A shard leader's finding, reported to the controller in heartbeats (docs/transactions.md, "GC"): in the shard's range
/// as of <paramref name="Epoch"/>, no lock of a transaction that started below <paramref name="Point"/> exists, and no
/// prewrite below it is accepted any more. The finding stays true for as long as the shard keeps that epoch (only a
/// merge brings foreign locks in, and it changes the epoch), so a report never has to be withdrawn, only renewed.
/// </summary>
public sealed record LockFreeReport(long Point, long Epoch);
