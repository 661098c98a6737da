using NoKv.Storage.RangeDeletion;

namespace NoKv.Storage.Compaction;

/// <summary>
/// Rewrites the range tombstones of a compaction's inputs for its outputs: cuts them into non-overlapping
/// fragments, keeps per fragment only the newest tombstone of each snapshot stripe (an older one in the same
/// stripe hides nothing the newer one does not), drops those that no longer hide anything (bottom of the
/// tree and visible to every reader), and merges adjacent fragments with identical contents.
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

        var bounds = new List<byte[]>();
        foreach (RangeTombstone t in input)
        {
            bounds.Add(t.Start);
            bounds.Add(t.End);
        }

        bounds.Sort(static (a, b) => a.AsSpan().SequenceCompareTo(b));
        var unique = new List<byte[]>();
        foreach (byte[] b in bounds)
        {
            if (unique.Count == 0 || !unique[^1].AsSpan().SequenceEqual(b))
            {
                unique.Add(b);
            }
        }

        List<ulong>? previous = null;
        int previousStartIndex = -1;
        var pendingStart = new List<int>();
        for (int i = 0; i + 1 < unique.Count; i++)
        {
            byte[] start = unique[i];
            byte[] end = unique[i + 1];
            var seqs = new List<ulong>();
            foreach (RangeTombstone t in input)
            {
                if (t.Start.AsSpan().SequenceCompareTo(start) <= 0 && t.End.AsSpan().SequenceCompareTo(end) >= 0)
                {
                    seqs.Add(t.Sequence);
                }
            }

            seqs.Sort(static (a, b) => b.CompareTo(a));
            var kept = new List<ulong>();
            int lastStripe = -1;
            bool bottom = seqs.Count > 0 && canDropAtBottom(start, end);
            foreach (ulong s in seqs)
            {
                int stripe = stripes.Of(s);
                if (stripe == lastStripe)
                {
                    continue;
                }

                lastStripe = stripe;
                if (bottom && stripe == 0)
                {
                    continue;
                }

                kept.Add(s);
            }

            if (previous is not null && previousStartIndex >= 0 && SameSequences(previous, kept))
            {
                // Extends the previous fragment: nothing to emit yet.
                continue;
            }

            if (previous is not null && previousStartIndex >= 0)
            {
                Emit(result, unique[previousStartIndex], start, previous);
            }

            previous = kept;
            previousStartIndex = i;
        }

        if (previous is not null && previousStartIndex >= 0)
        {
            Emit(result, unique[previousStartIndex], unique[^1], previous);
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
