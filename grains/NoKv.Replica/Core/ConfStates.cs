using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;

namespace NoKv.Replica.Core;

/// <summary>The Raft membership a shard descriptor implies.</summary>
internal static class ConfStates
{
    public static ConfState Of(ShardDescriptor shard)
    {
        var voters = new List<ulong>(shard.Peers.Length);
        var learners = new List<ulong>();
        foreach (var peer in shard.Peers)
        {
            (peer.Role == PeerRole.Voter ? voters : learners).Add(peer.PeerId);
        }

        return new ConfState(voters, learners);
    }
}
