namespace NoKv.Storage.Compaction;

/// <summary>
/// Groups sequence numbers by the oldest open snapshot that can see them. Two versions of a key in the same
/// stripe are indistinguishable to every reader, so only the newer one must be kept. Stripe 0 holds
/// sequences visible to every snapshot (at or below the oldest); with no snapshots everything is stripe 0.
/// </summary>
internal readonly struct SnapshotStripes
{
    private readonly ulong[] _snapshots;

    /// <param name="snapshots">Open snapshot sequences, ascending.</param>
    public SnapshotStripes(ulong[] snapshots) => _snapshots = snapshots;

    public int Of(ulong sequence)
    {
        int i = Array.BinarySearch(_snapshots, sequence);
        return i >= 0 ? i : ~i;
    }

    /// <summary>Whether every reader (every snapshot and the present) sees <paramref name="sequence"/>.</summary>
    public bool IsOldest(ulong sequence) => Of(sequence) == 0;
}
