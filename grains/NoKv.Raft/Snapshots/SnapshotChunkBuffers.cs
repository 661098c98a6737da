using System.Buffers;

namespace NoKv.Raft.Snapshots;

/// <summary>
/// The arrays a leader reads snapshot chunks into from a <see cref="SnapshotPayload"/>. A chunk is 1 MiB by default,
/// which the runtime allocates on the large object heap, reclaimed only by a full collection: streaming a 1 GiB snapshot
/// would leave a thousand of them behind. With <see cref="RaftConfig.ReuseMessageEntryBuffers"/> (the host encodes every
/// message of a Ready before its next GetReady) they are rented from the shared array pool and given back at the next
/// GetReady, the same life cycle as <see cref="Log.MessageEntryBuffers"/>; otherwise each chunk gets an array of its own.
/// </summary>
/// <remarks>
/// A snapshot that fits in one chunk is never given a rented array: a follower passes a single-chunk snapshot through
/// without copying it (an in-process follower would keep the rented array). Not thread-safe (owned by one RaftCore).
/// </remarks>
internal sealed class SnapshotChunkBuffers(bool reuse)
{
    private List<byte[]> building = new();
    private List<byte[]> handedOut = new();

    /// <summary>Memory of exactly <paramref name="length"/> bytes for one chunk of a snapshot of more than one chunk.</summary>
    public Memory<byte> Rent(int length, bool wholeSnapshot)
    {
        if (!reuse || wholeSnapshot)
        {
            return GC.AllocateUninitializedArray<byte>(length);
        }

        var array = ArrayPool<byte>.Shared.Rent(length);
        building.Add(array);
        return array.AsMemory(0, length);
    }

    /// <summary>GetReady has taken the messages: the previous Ready's arrays go back to the pool.</summary>
    public void OnReadyTaken()
    {
        if (!reuse)
        {
            return;
        }

        foreach (var array in handedOut)
        {
            ArrayPool<byte>.Shared.Return(array);
        }

        handedOut.Clear();
        (handedOut, building) = (building, handedOut);
    }
}
