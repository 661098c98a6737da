namespace NoKv.Raft.Snapshots;

/// <summary>
/// The bytes of a whole snapshot, read a piece at a time: by a leader when it sends each chunk, by a host when it
/// installs. Lets a host keep a shard-sized snapshot in a file instead of memory; the library never holds more of it
/// than the chunks it has sent and not yet handed over (<see cref="RaftConfig.SnapshotChunksInFlight"/>).
/// </summary>
/// <remarks>
/// Ownership: whoever holds a payload disposes it once nothing will read it again, which releases what backs it (a
/// staging file is deleted). A payload that <see cref="Storage.IRaftStorage.Snapshot"/> returns belongs to the leader
/// from then on: it is disposed when the follower's progress stops streaming it (caught up, rejected, removed, a new
/// term), so each call must return a payload of its own, or one whose disposal releases nothing
/// (<see cref="MemorySnapshotPayload"/>). A payload in <see cref="Ready.Snapshot"/> belongs to the host, which
/// disposes it after installing it. Thread safety: <see cref="ReadAt"/> and <see cref="OpenRead"/> may be called
/// from any thread, but not after <see cref="Dispose()"/>.
/// </remarks>
public abstract class SnapshotPayload : IDisposable
{
    /// <summary>Total bytes.</summary>
    public abstract long Length { get; }

    /// <summary>Fills <paramref name="destination"/> with the bytes at [<paramref name="offset"/>, offset + its length).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range reaches past <see cref="Length"/>.</exception>
    /// <exception cref="IOException">What backs the payload cannot be read.</exception>
    public abstract void ReadAt(long offset, Span<byte> destination);

    /// <summary>A read-only stream over all the bytes from offset 0, for installing; the caller disposes it (before the payload).</summary>
    public virtual Stream OpenRead() => new SnapshotPayloadStream(this);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what backs the payload. Called at most once with true; must tolerate being called again.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Checks that [offset, offset + length) lies inside the payload.</summary>
    protected void CheckRange(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"[{offset}, +{length}) is outside a snapshot payload of {Length} bytes.");
        }
    }
}
