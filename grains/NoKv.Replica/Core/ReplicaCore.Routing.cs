using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Core;

/// <summary>
/// What a WrongShard answer tells the client about where its keys went (docs/replica.md, "Routing after a split"),
/// and what a NotLeader answer tells it about the replica set its leader hint belongs to.
/// </summary>
public sealed partial class ReplicaCore
{
    /// <summary>Most descriptors one answer carries: enough for a client whose map missed a few splits of one shard.</summary>
    private const int MaxRoutingDescriptors = 8;

    private ShardDescriptor[]? _routing;
    private ShardDescriptor[]? _self;

    private ShardDescriptor[]? RoutingFor(NoKvErrorCode code) => code switch
    {
        NoKvErrorCode.WrongShard => RoutingDescriptors(),
        NoKvErrorCode.NotLeader => SelfDescriptor(),
        _ => null,
    };

    /// <summary>
    /// This shard's descriptor alone, for a NotLeader answer. Its hint names the leader by store, and right after a
    /// move or a re-replication that store may be missing from the client's map (the controller commits the new
    /// replica set after the replicas do): with the descriptor the client can go to the leader at once instead of
    /// trying the other old replicas and waiting for the controller's map (docs/replica.md, "Routing after a move").
    /// Cached per descriptor, which every change of range, epoch or replica set replaces.
    /// </summary>
    private ShardDescriptor[] SelfDescriptor()
    {
        var shard = Descriptor;
        if (_self is { } cached && ReferenceEquals(cached[0], shard))
        {
            return cached;
        }

        _self = [shard];
        return _self;
    }

    /// <summary>
    /// This shard's descriptor followed by the chain of shards split off its end, each found by the split history
    /// (the newest split-off shard starting where the previous one ends), until the chain reaches the end of the key
    /// space or a key this replica split off nothing at. The split-off shards are as each was created: one may have
    /// split or moved since, and then answers WrongShard in turn with its own chain. A client replaces the shard it
    /// routed by with a prefix of this chain only if the prefix covers exactly that shard's range with newer epochs.
    /// Cached per descriptor: every change of range or epoch replaces the descriptor.
    /// </summary>
    internal ShardDescriptor[] RoutingDescriptors()
    {
        var shard = Descriptor;
        if (_routing is { } cached && ReferenceEquals(cached[0], shard))
        {
            return cached;
        }

        var chain = new List<ShardDescriptor> { shard };
        if (shard.Id != SystemShards.Controller)
        {
            var splitOff = _stateMachine.SplitOffShards();
            var end = shard.Range.End;
            while (end.Length != 0 && chain.Count < MaxRoutingDescriptors)
            {
                ShardDescriptor? next = null;
                foreach (var candidate in splitOff)
                {
                    if (candidate.Range.Start.AsSpan().SequenceEqual(end) && (next is null || candidate.Epoch > next.Epoch))
                    {
                        next = candidate;
                    }
                }

                if (next is null)
                {
                    break;
                }

                chain.Add(next);
                end = next.Range.End;
            }
        }

        _routing = chain.ToArray();
        return _routing;
    }
}
