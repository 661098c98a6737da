using NoKv.Storage.RangeDeletion;

namespace NoKv.Storage.Compaction;

/// <summary>
/// Rewrites the range tombstones of a compaction's inputs for its outputs: cuts them into non-overlapping
/// fragments, keeps per fragment only the newest tombstone of each snapshot stripe (an older one in the same
/// stripe hides nothing the newer one does not), drops those that no longer hide anything (bottom of the
/// tree and visible to every reader), and merges adjacent fragments with identical contents. A sweep over the
/// sorted bounds with the covering set in a sorted set: O((n + fragments * stripes) log n), so nested ranges
/// (a Raft log truncated again and again) collapse into one fragment instead of costing n^2.
/// </summary>
internal static class TombstoneFragmenter
{
    /// <param name="canDropAtBottom">Whether nothing below the output level overlaps the user-key range [start, end).</param>
    public static List<RangeTombstone> Fragment(IReadOnlyList<RangeTombstone> input, SnapshotStripes stripes, Func<byte[], byte[], bool> canDropAtBottom)
    {
        var result = new List<RangeTombstone>();
        if (input.Count == 0)
        {
            return result;
        }

        byte[][] bounds = RangeTombstoneIndex.UniqueSortedBounds(input);
        var byStart = new List<(RangeTombstone T, int Id)>(input.Count);
        for (int i = 0; i < input.Count; i++)
        {
            byStart.Add((input[i], i));
        }

        var byEnd = new List<(RangeTombstone T, int Id)>(byStart);
        byStart.Sort(static (a, b) => a.T.Start.AsSpan().SequenceCompareTo(b.T.Start));
        byEnd.Sort(static (a, b) => a.T.End.AsSpan().SequenceCompareTo(b.T.End));
        var active = new SortedSet<(ulong Seq, int Id)>();
        int nextStart = 0;
        int nextEnd = 0;
        List<ulong>? previous = null;
        int previousStart = -1;
        for (int i = 0; i + 1 < bounds.Length; i++)
        {
            byte[] start = bounds[i];
            while (nextStart < byStart.Count && byStart[nextStart].T.Start.AsSpan().SequenceCompareTo(start) <= 0)
            {
                active.Add((byStart[nextStart].T.Sequence, byStart[nextStart].Id));
                nextStart++;
            }

            while (nextEnd < byEnd.Count && byEnd[nextEnd].T.End.AsSpan().SequenceCompareTo(start) <= 0)
            {
                active.Remove((byEnd[nextEnd].T.Sequence, byEnd[nextEnd].Id));
                nextEnd++;
            }

            List<ulong> kept = Keep(active, stripes, () => canDropAtBottom(start, bounds[i + 1]));
            if (previous is not null && SameSequences(previous, kept))
            {
                continue;
            }

            if (previous is not null)
            {
                Emit(result, bounds[previousStart], start, previous);
            }

            previous = kept;
            previousStart = i;
        }

        if (previous is not null)
        {
            Emit(result, bounds[previousStart], bounds[^1], previous);
        }

        return result;
    }

    /// <summary>The parts of <paramref name="tombstones"/> inside [lo, hi) (null = unbounded).</summary>
    public static RangeTombstone[] Clip(List<RangeTombstone> tombstones, byte[]? lo, byte[]? hi)
    {
        var result = new List<RangeTombstone>();
        foreach (RangeTombstone t in tombstones)
        {
            byte[] start = lo is not null && t.Start.AsSpan().SequenceCompareTo(lo) < 0 ? lo : t.Start;
            byte[] end = hi is not null && t.End.AsSpan().SequenceCompareTo(hi) > 0 ? hi : t.End;
            if (start.AsSpan().SequenceCompareTo(end) < 0)
            {
                result.Add(start == t.Start && end == t.End ? t : new RangeTombstone(start, end, t.Sequence));
            }
        }

        return [.. result];
    }

    /// <summary>Newest covering sequence per snapshot stripe, newest first, minus what the bottom no longer needs.</summary>
    private static List<ulong> Keep(SortedSet<(ulong Seq, int Id)> active, SnapshotStripes stripes, Func<bool> atBottom)
    {
        var kept = new List<ulong>();
        if (active.Count == 0)
        {
            return kept;
        }

        bool? bottom = null;
        for (int stripe = stripes.Count - 1; stripe >= 0; stripe--)
        {
            (ulong low, ulong high) = stripes.Range(stripe);
            if (low >= high)
            {
                // Two snapshots at one sequence (or one at sequence 0): an empty stripe.
                continue;
            }

            SortedSet<(ulong Seq, int Id)> inStripe = stripes.Count == 1 ? active : active.GetViewBetween((low + 1, int.MinValue), (high, int.MaxValue));
            if (inStripe.Count == 0)
            {
                continue;
            }

            if (stripe == 0 && (bottom ??= atBottom()))
            {
                // Every reader sees it and nothing lies below: the data it hid is gone with this compaction.
                continue;
            }

            kept.Add(inStripe.Max.Seq);
        }

        return kept;
    }

    private static void Emit(List<RangeTombstone> result, byte[] start, byte[] end, List<ulong> seqs)
    {
        foreach (ulong s in seqs)
        {
            result.Add(new RangeTombstone(start, end, s));
        }
    }

    private static bool SameSequences(List<ulong> a, List<ulong> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Count; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        return true;
    }
}
