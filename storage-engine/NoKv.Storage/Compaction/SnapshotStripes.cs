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

    /// <summary>No open snapshots: every sequence is in stripe 0.</summary>
    public bool IsEmpty => _snapshots is null || _snapshots.Length == 0;

    /// <summary>Number of stripes (open snapshots + 1).</summary>
    public int Count => (_snapshots?.Length ?? 0) + 1;

    /// <summary>Sequences in stripe <paramref name="stripe"/> lie in (low, high].</summary>
    public (ulong Low, ulong High) Range(int stripe)
    {
        ulong low = stripe == 0 ? 0 : _snapshots[stripe - 1];
        ulong high = stripe < _snapshots.Length ? _snapshots[stripe] : ulong.MaxValue;
        return (low, high);
    }

    public int Of(ulong sequence)
    {
        int i = Array.BinarySearch(_snapshots, sequence);
        return i >= 0 ? i : ~i;
    }

    /// <summary>Whether every reader (every snapshot and the present) sees <paramref name="sequence"/>.</summary>
    public bool IsOldest(ulong sequence) => Of(sequence) == 0;
}
