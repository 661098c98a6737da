using System.Numerics;
using NoKv.Raft.Messages;

namespace NoKv.Raft.Log;

/// <summary>
/// The arrays behind outgoing Append messages' <see cref="Message.Entries"/>. By default every batch gets
/// a fresh array that the library never writes again, so a host may keep a message forever. With
/// <see cref="RaftConfig.ReuseMessageEntryBuffers"/> the arrays are recycled: an array handed out in
/// Ready k is written again only after the host's next <see cref="RawNode.GetReady"/> (Ready k + 1) has
/// returned, which is when the contract says the host is done with Ready k's messages. The steady
/// replication path then allocates nothing per entry.
/// </summary>
/// <remarks>
/// Life cycle of a recycled array: rented (by a send between two Readies) → part of Ready k's messages
/// (at GetReady k) → free (at GetReady k + 1) → rented again. Arrays rented between GetReady k and
/// Advance k (e.g. by ApplyConfChange) belong to Ready k + 1. Not thread-safe (owned by one RaftCore).
/// </remarks>
internal sealed class MessageEntryBuffers
{
    /// <summary>Free arrays kept at most; beyond that they are left to the GC (bounds retained memory).</summary>
    private const int MaxFree = 64;

    private readonly bool reuse;
    private readonly List<Entry[]> free = new();
    private List<Entry[]> building = new();
    private List<Entry[]> handedOut = new();

    public MessageEntryBuffers(bool reuse)
    {
        this.reuse = reuse;
    }

    /// <summary>Incremented whenever arrays handed out earlier may be rewritten; a cached batch from an
    /// older generation must not be put in a new message.</summary>
    public int Generation { get; private set; }

    /// <summary>An array of at least <paramref name="length"/> entries for one message batch (exactly that
    /// length when not recycling).</summary>
    public Entry[] Rent(int length)
    {
        if (!reuse)
        {
            return new Entry[length];
        }

        Entry[]? array = null;
        for (var i = free.Count - 1; i >= 0; i--)
        {
            if (free[i].Length >= length)
            {
                array = free[i];
                free[i] = free[^1];
                free.RemoveAt(free.Count - 1);
                break;
            }
        }

        array ??= new Entry[BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, 16))];
        building.Add(array);
        return array;
    }

    /// <summary>GetReady has taken the pending messages: the previous Ready's arrays become free and the
    /// arrays rented since then now belong to the Ready being returned.</summary>
    public void OnReadyTaken()
    {
        if (!reuse)
        {
            return;
        }

        foreach (var array in handedOut)
        {
            if (free.Count < MaxFree)
            {
                free.Add(array);
            }
        }

        handedOut.Clear();
        (handedOut, building) = (building, handedOut);
        Generation++;
    }
}
