using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Core;

/// <summary>
/// What a WrongShard answer tells the client about where its keys went (docs/replica.md, "Routing after a split").
/// </summary>
public sealed partial class ReplicaCore
{
    /// <summary>Most descriptors one answer carries: enough for a client whose map missed a few splits of one shard.</summary>
    private const int MaxRoutingDescriptors = 8;

    private ShardDescriptor[]? _routing;

    private ShardDescriptor[]? RoutingFor(NoKvErrorCode code) => code == NoKvErrorCode.WrongShard ? RoutingDescriptors() : null;

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
