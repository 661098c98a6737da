using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Waiters;

namespace NoKv.Replica.Core;

public sealed partial class ReplicaCore
{
    // Log index up to which every replica compacts once it applied the addition of a new peer (0 = none pending).
    private ulong _compactFloor;

    // A leadership transfer asked for from outside (the controller), handed to the node by the next pump.
    private ulong _requestedTransferee;

    /// <summary>
    /// False for a replica created empty for a peer being added (<see cref="ReplicaDirectory.CreateAsync"/>): until the
    /// leader's snapshot names it, it has no membership, serves nothing and accepts no log entries.
    /// </summary>
    public bool IsInitialized => Descriptor.Peer(PeerId) is not null;

    /// <summary>
    /// Makes the voter on <paramref name="store"/> the shard's preferred leader and hands leadership to it: first a
    /// <see cref="Commands.PreferLeaderCommand"/> is committed (unless that voter is first already), so the
    /// replicas' leader balance keeps the new leader instead of handing leadership back, across restarts and
    /// elections; then Raft catches the transferee up and tells it to campaign at once. Answers Ok once the
    /// preference applied here and the transfer is handed to the node; whether the transfer happened shows in the
    /// replicas' status (a transfer that does not finish within an election timeout is abandoned, and the
    /// balance rule tries again later, since the preference stays).
    /// </summary>
    public async Task<WriteResponse> TransferLeadershipAsync(StoreId store, CancellationToken cancellationToken = default)
    {
        if (CheckServing() is { } rejection)
        {
            return new WriteResponse { Code = rejection.Code, Detail = rejection.Detail, CurrentEpoch = Descriptor.Epoch, LeaderHint = LeaderHint() };
        }

        if (!_node.IsLeader)
        {
            return new WriteResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
        }

        if (Descriptor.PeerOn(store) is not { Role: PeerRole.Voter } peer)
        {
            throw new ArgumentException($"Store {store} holds no voter of shard {Descriptor.Id}.", nameof(store));
        }

        if (Descriptor.Replicas[0] != store)
        {
            var waiter = new ProposalWaiter(new Commands.PreferLeaderCommand(peer.PeerId).Encode(), Deadline());
            var response = await ProposeAndWaitAsync(waiter, cancellationToken).ConfigureAwait(true);
            if (response.Code != NoKvErrorCode.Ok)
            {
                return waiter.Result is string detail ? new WriteResponse { Code = response.Code, Detail = detail, CurrentEpoch = Descriptor.Epoch, LeaderHint = response.LeaderHint } : response;
            }
        }

        if (store == _store || !_node.IsLeader || _host.IsStoreSlow(store))
        {
            // Either nothing to hand over, or leadership moved meanwhile, or the store's disk is slow (docs/replica.md,
            // "Slow disks"): the committed preference brings leadership to the store through the leader's balance
            // rule, once it is fast.
            return new WriteResponse { Code = NoKvErrorCode.Ok, Succeeded = true, CurrentEpoch = Descriptor.Epoch };
        }

        _requestedTransferee = peer.PeerId;
        await PumpAsync().ConfigureAwait(true);
        return new WriteResponse { Code = NoKvErrorCode.Ok, Succeeded = true, CurrentEpoch = Descriptor.Epoch };
    }

    /// <summary>Hands a requested transfer to the node (only from the pump: nothing but reads may happen mid-Ready).</summary>
    private void DrainTransferRequest()
    {
        if (_requestedTransferee == 0)
        {
            return;
        }

        ulong to = _requestedTransferee;
        _requestedTransferee = 0;
        if (_node.IsLeader)
        {
            var result = _node.TransferLeadership(to);
            ReplicaCoreLog.LeaderTransfer(_logger, _name, to.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Status.ToString());

            // The transferee is the committed preferred voter; give the transfer an undisturbed balance period.
            _ticksSinceBalance = 0;
        }
    }
}
