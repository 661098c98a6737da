namespace NoKv.Raft.Quorum;

/// <summary>Maps a voter id to an acknowledged index (e.g. its match). Implemented by structs so quorum math is inlined.</summary>
public interface IIndexLookup
{
    /// <summary>Returns false if the voter has no known index (it counts as 0).</summary>
    bool TryGetIndex(ulong id, out ulong index);
}
