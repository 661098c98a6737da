using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;

namespace NoKv.Replica.StateMachine;

/// <summary>Applying a preferred-leader change (<see cref="PreferLeaderCommand"/>, docs/replica.md "Leader balance").</summary>
internal sealed partial class ShardStateMachine
{
    /// <summary>
    /// Why <paramref name="peerId"/> cannot become <paramref name="shard"/>'s preferred leader, or null if it can. Checked
    /// when the leader proposes (a clear answer) and when every replica applies (the authority).
    /// </summary>
    public static (NoKvErrorCode Code, string Detail)? CheckPreferLeader(ShardDescriptor shard, ulong peerId) =>
        shard.Peer(peerId) is { Role: PeerRole.Voter }
            ? null
            : (NoKvErrorCode.InvalidRange, $"peer {peerId} is not a voter of shard {shard.Id} (peers [{string.Join(",", shard.Peers)}])");

    /// <summary>
    /// <paramref name="shard"/> with <paramref name="peerId"/> first among its peers (the others in their order) and the
    /// membership version one higher; the same descriptor when it is already first.
    /// REQUIRES: <see cref="CheckPreferLeader"/> passed.
    /// </summary>
    public static ShardDescriptor WithPreferredLeader(ShardDescriptor shard, ulong peerId)
    {
        if (shard.Peers[0].PeerId == peerId)
        {
            return shard;
        }

        var peers = new PeerDescriptor[shard.Peers.Length];
        peers[0] = shard.Peer(peerId)!.Value;
        int at = 1;
        foreach (var peer in shard.Peers)
        {
            if (peer.PeerId != peerId)
            {
                peers[at++] = peer;
            }
        }

        return new ShardDescriptor(shard.Id, shard.Range, shard.Epoch, shard.ConfVersion + 1, peers);
    }

    /// <summary>Stages <paramref name="entry"/> if it is a preferred-leader change and returns true; false for any other entry.</summary>
    private bool TryStagePreferLeader(in Entry entry, List<ApplyOutcome> outcomes)
    {
        var data = entry.Data.Span;
        if (!CommandEnvelope.TryReadHeader(data, out var header) || header.Type != CommandType.PreferLeader)
        {
            return false;
        }

        var command = PreferLeaderCommand.Decode(header, data);
        var current = Applying;
        if (CheckPreferLeader(current, command.PeerId) is { } refusal)
        {
            outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, refusal.Code, false, Result: refusal.Detail));
            return true;
        }

        var next = WithPreferredLeader(current, command.PeerId);
        if (!ReferenceEquals(next, current))
        {
            _stagedShard = next;
        }

        outcomes.Add(new ApplyOutcome(entry.Index, entry.Term, NoKvErrorCode.Ok, true, Result: next));
        return true;
    }
}
