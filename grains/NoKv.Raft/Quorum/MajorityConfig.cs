namespace NoKv.Raft.Quorum;

/// <summary>A set of voters where any strict majority is a quorum. Immutable.</summary>
/// <remarks>An empty config is a degenerate case: every vote is won and every index is committed
/// (so a joint config with an empty outgoing half behaves like its incoming half).</remarks>
public sealed class MajorityConfig
{
    private readonly ulong[] ids;

    public MajorityConfig(IEnumerable<ulong> voters)
    {
        ArgumentNullException.ThrowIfNull(voters);
        var set = new SortedSet<ulong>(voters);
        if (set.Contains(0))
        {
            throw new ArgumentException("Voter id 0 is reserved for \"no node\".", nameof(voters));
        }

        ids = [.. set];
    }

    public static MajorityConfig Empty { get; } = new([]);

    public int Count => ids.Length;

    /// <summary>Voter ids in ascending order.</summary>
    public ReadOnlySpan<ulong> Ids => ids;

    public bool Contains(ulong id) => Array.BinarySearch(ids, id) >= 0;

    /// <summary>
    /// The largest index acknowledged by a quorum: sort the voters' indexes descending and take the
    /// one at position (n/2). Voters without an index count as 0.
    /// </summary>
    public ulong CommittedIndex<TLookup>(TLookup lookup)
        where TLookup : IIndexLookup
    {
        var n = ids.Length;
        if (n == 0)
        {
            return ulong.MaxValue;
        }

        Span<ulong> scratch = n <= 32 ? stackalloc ulong[n] : new ulong[n];
        for (var i = 0; i < n; i++)
        {
            scratch[i] = lookup.TryGetIndex(ids[i], out var index) ? index : 0;
        }

        // Insertion sort: groups are small (3-7 voters) and this allocates nothing.
        for (var i = 1; i < n; i++)
        {
            var v = scratch[i];
            var j = i - 1;
            while (j >= 0 && scratch[j] > v)
            {
                scratch[j + 1] = scratch[j];
                j--;
            }

            scratch[j + 1] = v;
        }

        // Ascending order: a quorum (n/2+1 voters) holds at least scratch[n - (n/2 + 1)].
        return scratch[n - (n / 2 + 1)];
    }

    /// <summary>Counts votes: <paramref name="votes"/> maps voter id to granted (missing = not yet voted).</summary>
    public VoteResult VoteResult(IReadOnlyDictionary<ulong, bool> votes)
    {
        if (ids.Length == 0)
        {
            return Quorum.VoteResult.Won;
        }

        int yes = 0, missing = 0;
        foreach (var id in ids)
        {
            if (!votes.TryGetValue(id, out var granted))
            {
                missing++;
            }
            else if (granted)
            {
                yes++;
            }
        }

        var q = ids.Length / 2 + 1;
        if (yes >= q)
        {
            return Quorum.VoteResult.Won;
        }

        return yes + missing >= q ? Quorum.VoteResult.Pending : Quorum.VoteResult.Lost;
    }

    public override string ToString() => "(" + string.Join(' ', ids) + ")";
}
