using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands;
using NoKv.Replica.Diagnostics;
using NoKv.Replica.Layout;
using NoKv.Replica.StateMachine;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

/// <summary>
/// Splitting the shard (docs/replica.md, "Split"): the leader proposes a <see cref="SplitCommand"/> in the shard's own
/// log; every replica applies it atomically (<see cref="ShardStateMachine"/>), which also creates the new shard's
/// replica on its store; the host learns of it through <see cref="Split"/> and opens that replica.
/// </summary>
public sealed partial class ReplicaCore
{
    /// <summary>
    /// Raised once per split applied here, after it is durable: (this shard as it is now, the new shard whose replica on
    /// this store now exists in the engine and should be opened). Raised from inside the pump: a handler must not call
    /// back into this core synchronously.
    /// </summary>
    public event Action<ShardDescriptor, ShardDescriptor>? Split;

    /// <summary>
    /// Proposes splitting the shard at <paramref name="splitKey"/> into a new shard <paramref name="newShard"/> whose
    /// peers are <paramref name="newPeers"/> (one per store of the shard, fresh peer ids; roles follow the shard's), and
    /// answers once it applied here (<see cref="WriteResponse.CurrentEpoch"/> is then the new epoch). A split for another
    /// epoch than <paramref name="expectedEpoch"/> is refused with WrongShard, a key not strictly inside the range or
    /// peers that do not match the shard's stores with InvalidRange; a refused split changes nothing.
    /// </summary>
    public async Task<WriteResponse> SplitAsync(long expectedEpoch, byte[] splitKey, ShardId newShard, IReadOnlyList<PeerDescriptor> newPeers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(splitKey);
        ArgumentNullException.ThrowIfNull(newPeers);
        var peers = new SplitPeer[newPeers.Count];
        for (int i = 0; i < peers.Length; i++)
        {
            peers[i] = new SplitPeer(newPeers[i].Store, newPeers[i].PeerId);
        }

        var command = new SplitCommand(expectedEpoch, splitKey, newShard, peers);
        var shard = Descriptor;
        var rejection = CheckServing() ?? ShardStateMachine.CheckSplit(shard, command, KeySpace.DataPrefixOf(shard.Id) == KeySpace.DataPrefix);
        if (rejection is { } r)
        {
            return new WriteResponse { Code = r.Code, Detail = r.Detail, CurrentEpoch = shard.Epoch, LeaderHint = LeaderHint() };
        }

        if (!_node.IsLeader)
        {
            return new WriteResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = shard.Epoch };
        }

        var waiter = new ProposalWaiter(command.Encode(), Deadline());
        var response = await ProposeAndWaitAsync(waiter, cancellationToken).ConfigureAwait(true);
        if (response.Code != NoKvErrorCode.Ok && waiter.Result is string detail)
        {
            return new WriteResponse { Code = response.Code, Detail = detail, CurrentEpoch = Descriptor.Epoch, LeaderHint = response.LeaderHint };
        }

        return response;
    }

    /// <summary>
    /// Campaigns at once (a pre-vote first) unless this replica leads or knows a leader. The host calls it on a split's
    /// new replica on the store whose replica of the split shard led when the split applied: every replica of the new
    /// group starts at the same log position with no leader, so without it the new shard waited a randomized election
    /// timeout before anyone campaigned, and requests for its keys with it (the split benchmark's slow second). A peer
    /// that has not applied the split yet gets the (pre-)vote once it has: the host keeps early messages for a replica
    /// it has not opened.
    /// </summary>
    public Task CampaignAfterSplitAsync()
    {
        if (!_node.IsLeader && _node.Lead == 0)
        {
            _campaignRequested = true;
        }

        return PumpAsync();
    }

    /// <summary>The key that halves the shard's rows by size as this replica applied them, or null (see <c>ShardStateMachine.MiddleKey</c>).</summary>
    public byte[]? MiddleKey() => _stateMachine.MiddleKey();

    /// <summary>After an apply completes: reports its splits to the host, and re-times lock leases for the shrunk range.</summary>
    private void ReportSplits()
    {
        var splits = _stateMachine.TakeSplits();
        foreach (var (left, right) in splits)
        {
            ReplicaCoreLog.SplitApplied(_logger, _name, left.ToString(), right.ToString());
            LogEvent("split_applied", $"{_name}: now {left}; new {right}");

            // Leases of locks now in the right half are the new shard's to time; restart from the applied records.
            _leasesStale = true;
            Split?.Invoke(left, right);
        }
    }
}
