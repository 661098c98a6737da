namespace NoKv.Raft.Reads;

/// <summary>
/// FIFO of ReadIndex requests on a leader, each tagged with the heartbeat round that must be
/// acknowledged by a quorum before it may be answered. Rounds are non-decreasing along the queue,
/// so releasing is a prefix pop.
/// </summary>
/// <remarks>
/// Why rounds instead of per-request acknowledgement sets: a follower answering the heartbeat of
/// round r proves the leader was still leader after every request tagged &lt;= r arrived, so one
/// per-follower counter (the highest round it acknowledged) replaces a set per request.
/// </remarks>
internal sealed class ReadIndexQueue
{
    private PendingRead[] items = new PendingRead[16];
    private int head;
    private int count;

    public int Count => count;

    public void Enqueue(in PendingRead read)
    {
        if (head + count == items.Length)
        {
            if (count <= items.Length / 2)
            {
                Array.Copy(items, head, items, 0, count);
                Array.Clear(items, count, head);
            }
            else
            {
                var grown = new PendingRead[items.Length * 2];
                Array.Copy(items, head, grown, 0, count);
                items = grown;
            }

            head = 0;
        }

        items[head + count] = read;
        count++;
    }

    /// <summary>Pops the oldest request if its round is at or below <paramref name="ackedRound"/>.</summary>
    public bool TryDequeue(ulong ackedRound, out PendingRead read)
    {
        if (count == 0 || items[head].Round > ackedRound)
        {
            read = default;
            return false;
        }

        read = items[head];
        items[head] = default;
        head++;
        count--;
        if (count == 0)
        {
            head = 0;
        }

        return true;
    }

    public void Clear()
    {
        Array.Clear(items, head, count);
        head = 0;
        count = 0;
    }
}
