using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Layout;
using NoKv.Storage;

namespace NoKv.Replica.Core;

/// <summary>
/// The rules by which a store serves the controller's calls on one of its replicas (membership changes, leadership
/// transfers, destruction), kept out of the grain so the replica grain and the deterministic simulation apply the
/// same ones (docs/controller.md, "Operations").
/// </summary>
public static class ReplicaAdministration
{
    /// <summary>
    /// Proposes the controller's membership change on <paramref name="core"/>; a change that contradicts the membership
    /// (a second peer on one store, a reused peer id, removing the last voter) is answered InvalidRange, not thrown.
    /// </summary>
    public static async Task<WriteResponse> ChangeMembershipAsync(ReplicaCore core, MembershipChangeKind kind, PeerDescriptor peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(core);
        var type = kind switch
        {
            MembershipChangeKind.AddLearner => ConfChangeType.AddLearnerNode,
            MembershipChangeKind.Promote => ConfChangeType.AddNode,
            MembershipChangeKind.Remove => ConfChangeType.RemoveNode,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown membership change"),
        };
        try
        {
            return await core.ChangeMembershipAsync(type, peer with { Role = kind == MembershipChangeKind.AddLearner ? PeerRole.Learner : PeerRole.Voter }, cancellationToken).ConfigureAwait(true);
        }
        catch (ArgumentException e)
        {
            return new WriteResponse { Code = NoKvErrorCode.InvalidRange, Detail = e.Message, CurrentEpoch = core.Descriptor.Epoch };
        }
    }

    /// <summary>Hands leadership to the voter on <paramref name="store"/>; a store holding no voter is answered InvalidRange.</summary>
    public static async Task<WriteResponse> TransferLeadershipAsync(ReplicaCore core, StoreId store)
    {
        ArgumentNullException.ThrowIfNull(core);
        try
        {
            return await core.TransferLeadershipAsync(store).ConfigureAwait(true);
        }
        catch (ArgumentException e)
        {
            return new WriteResponse { Code = NoKvErrorCode.InvalidRange, Detail = e.Message, CurrentEpoch = core.Descriptor.Epoch };
        }
    }

    /// <summary>Proposes one command of a merge (prepare, commit or rollback) on <paramref name="core"/>.</summary>
    public static Task<WriteResponse> MergeAsync(ReplicaCore core, MergeShardRequest request)
    {
        ArgumentNullException.ThrowIfNull(core);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Shard != core.Descriptor.Id)
        {
            return Task.FromResult(new WriteResponse { Code = NoKvErrorCode.WrongShard, CurrentEpoch = core.Descriptor.Epoch, Detail = $"this replica is of shard {core.Descriptor.Id}, not {request.Shard}" });
        }

        return request.Step switch
        {
            MergeStep.Prepare => core.PrepareMergeAsync(request.ExpectedEpoch, request.ExpectedConfVersion, request.Target),
            MergeStep.Commit when request.Source is { } source => core.CommitMergeAsync(request.ExpectedEpoch, request.ExpectedConfVersion, source, (ulong)request.PrepareIndex, (ulong)request.PrepareTerm),
            MergeStep.Rollback => core.RollbackMergeAsync(request.ExpectedEpoch, (ulong)request.PrepareIndex),
            _ => Task.FromResult(new WriteResponse { Code = NoKvErrorCode.InvalidRange, CurrentEpoch = core.Descriptor.Epoch, Detail = $"malformed merge request ({request.Step})" }),
        };
    }

    /// <summary>
    /// Why the running replica <paramref name="core"/> must not be destroyed as peer <paramref name="peerId"/>, or null
    /// when it may: the store holds another peer; a merge source whose target here has not taken its rows over; a
    /// leader that still names itself (its removal is not committed: a removed leader steps down on applying it).
    /// </summary>
    public static string? DestroyRefusal(ReplicaCore core, Database db, ulong peerId)
    {
        ArgumentNullException.ThrowIfNull(core);
        var shard = core.Descriptor.Id;
        if (core.PeerId != peerId)
        {
            return $"this store holds peer {core.PeerId} of shard {shard}, not {peerId}";
        }

        bool mergedAway = ReplicaDirectory.Tombstone(db, shard) >= peerId;
        if (core.Merging is not null && !mergedAway)
        {
            return $"peer {peerId} of shard {shard} is {core.Merging} and the target here has not taken it over";
        }

        if (core.Descriptor.Peer(peerId) is not null && core.IsLeader && !mergedAway)
        {
            return $"peer {peerId} still leads shard {shard}";
        }

        return null;
    }

    /// <summary>
    /// Why the running replica must not be destroyed as an orphan the map at membership version
    /// <paramref name="mapConfVersion"/> no longer names, or null when it may (see <c>OrphanCollector</c>): its own
    /// descriptor must be older than the map's, else the map that named it an orphan was stale.
    /// </summary>
    public static string? OrphanRefusal(ReplicaCore core, ulong peerId, long mapConfVersion)
    {
        ArgumentNullException.ThrowIfNull(core);
        if (core.PeerId != peerId)
        {
            return $"this store holds peer {core.PeerId} of shard {core.Descriptor.Id}, not {peerId}";
        }

        // Equal versions: only a replica that is no member of its own descriptor (created for a move that never added
        // it, or that applied its own removal); it never acknowledged an entry, so destroying it loses nothing.
        long own = core.Descriptor.ConfVersion;
        return own > mapConfVersion || (own == mapConfVersion && core.IsInitialized)
            ? $"peer {peerId} of shard {core.Descriptor.Id} knows membership version {own}{(own == mapConfVersion ? " as a member" : string.Empty)}, not older than the map's {mapConfVersion}"
            : null;
    }

    /// <summary>
    /// Why peer <paramref name="peerId"/> must not be destroyed as an orphan of a merged-away shard whose range the map
    /// covers with epochs of at least <paramref name="mapEpoch"/>, judged by the replica's own descriptor
    /// (<paramref name="own"/>, held by peer <paramref name="ownPeer"/>; running or as persisted), or null when it may: its
    /// epoch must be below the map's, else the map that called its shard merged away was stale or the shard is a split
    /// half the map has not recorded yet.
    /// </summary>
    public static string? MergedAwayRefusal(ulong ownPeer, ShardDescriptor own, ulong peerId, long mapEpoch)
    {
        ArgumentNullException.ThrowIfNull(own);
        if (ownPeer != peerId)
        {
            return $"this store holds peer {ownPeer} of shard {own.Id}, not {peerId}";
        }

        return own.Epoch >= mapEpoch
            ? $"peer {peerId} of shard {own.Id} knows epoch {own.Epoch}, not below the lowest epoch {mapEpoch} of the map's shards over its range"
            : null;
    }

    /// <summary>
    /// <see cref="MergedAwayRefusal(ulong, ShardDescriptor, ulong, long)"/> for a replica that is not running, by its
    /// persisted state; null when the store holds none (destroying it then only clears what is left).
    /// </summary>
    public static string? MergedAwayRefusal(Database db, ShardId shard, ulong peerId, long mapEpoch)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (db.Get(KeySpace.ReplicaStateKey(shard)) is not { } row)
        {
            return null;
        }

        var state = ReplicaStateCodec.Decode(row);
        return MergedAwayRefusal(state.PeerId, state.Descriptor, peerId, mapEpoch);
    }
}
