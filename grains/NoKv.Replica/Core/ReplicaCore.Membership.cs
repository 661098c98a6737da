using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

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
    /// Asks this leader to hand leadership to the voter on <paramref name="store"/>: Raft catches the transferee up and
    /// tells it to campaign at once. Answers Ok once the request is handed to the node; whether the transfer happened
    /// shows in the replicas' status (a transfer that does not finish within an election timeout is abandoned).
    /// </summary>
    public async Task<WriteResponse> TransferLeadershipAsync(StoreId store)
    {
        if (CheckServing() is { } rejection)
        {
            return new WriteResponse { Code = rejection.Code, Detail = rejection.Detail, CurrentEpoch = Descriptor.Epoch, LeaderHint = LeaderHint() };
        }

        if (!_node.IsLeader)
        {
            return new WriteResponse { Code = NoKvErrorCode.NotLeader, LeaderHint = LeaderHint(), CurrentEpoch = Descriptor.Epoch };
        }

        if (store == _store)
        {
            return new WriteResponse { Code = NoKvErrorCode.Ok, Succeeded = true, CurrentEpoch = Descriptor.Epoch };
        }

        if (Descriptor.PeerOn(store) is not { Role: PeerRole.Voter } peer)
        {
            throw new ArgumentException($"Store {store} holds no voter of shard {Descriptor.Id}.", nameof(store));
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

            // The balancer would hand leadership back to the preferred voter a few election timeouts later unless
            // the transferee is preferred; a transfer asked for from outside is the controller's balance decision.
            _ticksSinceBalance = 0;
        }
    }
}
