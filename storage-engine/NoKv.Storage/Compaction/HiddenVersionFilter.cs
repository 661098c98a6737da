using NoKv.Storage.RangeDeletion;

namespace NoKv.Storage.Compaction;

/// <summary>
/// Decides which versions of a sorted stream of internal keys no reader can see any more, for flush and
/// compaction alike: a version is hidden when a newer version of the same user key, or a newer range
/// tombstone covering it, lies in the same snapshot stripe (no open snapshot between the two sequences, so
/// every reader that sees the older one sees the newer one too).
/// </summary>
/// <remarks>
/// The caller feeds every key of the stream in internal-key order (user key ascending, newest version
/// first), kept or not, since which version came last decides what the next one is. The tombstones are the
/// ones that travel with the output (the memtable's, or the compaction inputs'); tombstones elsewhere do not
/// hide anything here. Point deletions are never hidden just for being deletions (only the caller knows
/// whether anything older lies below). Not thread-safe; one per flush or compaction.
/// </remarks>
internal sealed class HiddenVersionFilter
{
    private readonly SnapshotStripes _stripes;
    private readonly RangeTombstoneIndex _tombstones;
    private byte[] _lastUserKey = new byte[64];
    private int _lastUserKeyLength = -1;
    private int _lastStripe = -1;

    /// <param name="stripes">The open snapshots when the output is written.</param>
    /// <param name="tombstones">The range tombstones written with the output.</param>
    public HiddenVersionFilter(SnapshotStripes stripes, RangeTombstoneIndex tombstones)
    {
        _stripes = stripes;
        _tombstones = tombstones;
    }

    /// <summary>Whether the key last passed to <see cref="IsHidden"/> began a new user key.</summary>
    public bool NewUserKey { get; private set; }

    /// <summary>The snapshot stripe of the key last passed to <see cref="IsHidden"/> (0: every reader sees it).</summary>
    public int Stripe { get; private set; }

    /// <summary>
    /// Classifies the next key of the stream: true when no reader can see this version. Also sets
    /// <see cref="NewUserKey"/> and <see cref="Stripe"/>.
    /// </summary>
    public bool IsHidden(ReadOnlySpan<byte> internalKey)
    {
        ReadOnlySpan<byte> ukey = InternalKey.UserKey(internalKey);
        ulong seq = InternalKey.SequenceOf(internalKey);
        bool newKey = _lastUserKeyLength < 0 || !ukey.SequenceEqual(_lastUserKey.AsSpan(0, _lastUserKeyLength));
        int stripe = _stripes.IsEmpty ? 0 : _stripes.Of(seq);
        NewUserKey = newKey;
        Stripe = stripe;
        if (newKey)
        {
            if (ukey.Length > _lastUserKey.Length)
            {
                _lastUserKey = new byte[ukey.Length * 2];
            }

            ukey.CopyTo(_lastUserKey);
            _lastUserKeyLength = ukey.Length;
            _lastStripe = -1;
        }

        if (stripe == _lastStripe)
        {
            // A newer version in the same stripe hides this one from every reader.
            return true;
        }

        _lastStripe = stripe;
        return !_tombstones.IsEmpty && _tombstones.MaxCoveringSequence(ukey, ulong.MaxValue) > seq &&
               (_stripes.IsEmpty || _stripes.Of(_tombstones.MinCoveringAbove(ukey, seq)) == stripe);
    }
}
