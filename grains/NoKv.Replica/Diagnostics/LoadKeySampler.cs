using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Diagnostics;

/// <summary>
/// A uniform sample of the keys a leader served since the sample was last taken (reservoir sampling over requests, not
/// over distinct keys), from which <see cref="TakeSplitKey"/> picks the key that halves the load: the median of the
/// sampled requests in key order, so about half the requests fall on each side of a split there. A shard hot on one
/// part of its range is split at that part, not at the middle of its bytes.
/// <para>Costs a counter, a cheap random draw and, rarely, an array store per request; the sample holds at most
/// <see cref="Capacity"/> key references (request keys are never reused after the request). Thread-safe: requests
/// record on the replica's thread, the heartbeat takes from another.</para>
/// </summary>
public sealed class LoadKeySampler
{
    /// <summary>Keys kept per sample: the median of 256 uniform draws sits within about 3% of the load's middle.</summary>
    public const int Capacity = 256;

    /// <summary>Fewer requests than this since the last take say nothing about where the load lies.</summary>
    public const int MinRequests = 64;

    /// <summary>
    /// A cut that leaves less than this share of the sampled requests on either side divides nothing worth a split: the
    /// load sits on one key (or on the range's first key), and splitting there only adds a hop for that key's clients.
    /// </summary>
    public const double MinSideShare = 0.2;

    private readonly byte[][] _sample = new byte[Capacity][];
    private readonly object _lock = new();
    private long _seen;
    private ulong _state;

    public LoadKeySampler(ulong seed = 0x9E3779B97F4A7C15UL) => _state = seed == 0 ? 1 : seed;

    /// <summary>Counts one request for <paramref name="key"/>.</summary>
    public void Record(byte[] key)
    {
        lock (_lock)
        {
            long seen = ++_seen;
            if (seen <= Capacity)
            {
                _sample[seen - 1] = key;
                return;
            }

            // Algorithm R: the n-th request replaces a random slot with probability Capacity / n.
            ulong draw = Next() % (ulong)seen;
            if (draw < Capacity)
            {
                _sample[draw] = key;
            }
        }
    }

    /// <summary>
    /// The key that splits the requests sampled since the last take about in half, strictly inside
    /// <paramref name="range"/> (a split key must leave both halves non-empty); null when too few requests were seen;
    /// an empty key when enough were seen but no legal cut leaves at least <see cref="MinSideShare"/> of them on each
    /// side (the load is on one key: no split helps). Then starts a new sample.
    /// </summary>
    public byte[]? TakeSplitKey(KeyRange range)
    {
        ArgumentNullException.ThrowIfNull(range);
        byte[][] keys;
        lock (_lock)
        {
            long seen = _seen;
            int count = (int)Math.Min(seen, Capacity);
            keys = seen >= MinRequests ? _sample[..count] : [];
            Array.Clear(_sample);
            _seen = 0;
        }

        if (keys.Length == 0)
        {
            return null;
        }

        Array.Sort(keys, static (a, b) => a.AsSpan().SequenceCompareTo(b));
        for (int i = keys.Length / 2; i < keys.Length; i++)
        {
            // The median, or the first sampled key after it that a split may use: a key at the range's start would
            // leave the left half empty, and one outside the range (a request racing a split) is no candidate.
            var key = keys[i];
            if (key.AsSpan().SequenceCompareTo(range.Start) > 0 && range.Contains(key))
            {
                // Requests for the key itself go right of the cut: count the sampled requests strictly before it.
                int left = i;
                while (left > 0 && keys[left - 1].AsSpan().SequenceEqual(key))
                {
                    left--;
                }

                double share = (double)left / keys.Length;
                return share >= MinSideShare && share <= 1 - MinSideShare ? key : [];
            }
        }

        return [];
    }

    private ulong Next()
    {
        // xorshift64*: the sample needs uniform draws, not unpredictable ones.
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return _state * 0x2545F4914F6CDD1DUL;
    }
}
