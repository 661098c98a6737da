using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;
using NoKv.Replica.Controller.Operations;
using NoKv.Replica.Core;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The controller's calls to the simulated stores' replicas, as <c>GrainReplicaAdmin</c> makes them over grain calls:
/// each crosses the simulated network (delayed, lost now and then, never reaching a store that is down or cut off, held
/// while the store is paused) and is bounded by a timeout, after which it throws as a real call would; an answer can be
/// lost after the call took effect. The replica side follows the grain's rules (<see cref="ReplicaAdministration"/>, and
/// the grain's split and middle-key calls for <see cref="IShardAccess"/>). Its clock is the simulation's.
/// </summary>
internal sealed class SimReplicaAdmin : IReplicaAdmin, IShardAccess
{
    private const long CallTimeoutMs = 1_000;
    private const long ChangeTimeoutMs = 5_000;
    private readonly ReplicaSimulation _sim;

    public SimReplicaAdmin(ReplicaSimulation sim) => _sim = sim;

    /// <summary>Calls that threw for want of an answer (lost, timed out, store down).</summary>
    public int Unanswered { get; private set; }

    public long WallClockMs => 1_700_000_000_000 + _sim.Now;

    public long NowMs => _sim.Now;

    public async Task DelayAsync(int milliseconds, CancellationToken cancellationToken)
    {
        await _sim.Delay(milliseconds);
        cancellationToken.ThrowIfCancellationRequested();
    }

    public Task<WriteResponse> SplitAsync(StoreId store, SplitShardRequest request, CancellationToken cancellationToken) =>
        CallAsync(store, ChangeTimeoutMs, node => node.CoreOf(request.Shard) is { } core ? core.SplitAsync(request.ExpectedEpoch, request.SplitKey, request.NewShard, request.NewPeers) : Task.FromResult(NoReplica(node, request.Shard)), cancellationToken);

    public Task<ShardDescriptor?> DescriptorAsync(StoreId store, ShardId shard, CancellationToken cancellationToken) =>
        CallAsync(store, CallTimeoutMs, node => Task.FromResult(node.CoreOf(shard)?.Descriptor), cancellationToken);

    public Task<byte[]?> MiddleKeyAsync(StoreId store, ShardId shard, CancellationToken cancellationToken) =>
        CallAsync(store, CallTimeoutMs, node => Task.FromResult(node.CoreOf(shard)?.MiddleKey()), cancellationToken);

    public Task<ReplicaStatus> StatusAsync(ShardId shard, StoreId store, CancellationToken cancellationToken) =>
        CallAsync(store, CallTimeoutMs, node => Task.FromResult(node.Status(shard)), cancellationToken);

    public Task<ReplicaAdminResult> CreateAsync(StoreId store, ShardDescriptor shard, ulong peerId, CancellationToken cancellationToken) =>
        CallAsync(store, ChangeTimeoutMs, node => node.CreateReplicaAsync(shard, peerId), cancellationToken);

    public Task<WriteResponse> ChangeAsync(StoreId leader, ShardId shard, MembershipChangeKind kind, PeerDescriptor peer, CancellationToken cancellationToken) =>
        CallAsync(leader, ChangeTimeoutMs, node => node.CoreOf(shard) is { } core ? ReplicaAdministration.ChangeMembershipAsync(core, kind, peer, CancellationToken.None) : Task.FromResult(NoReplica(node, shard)), cancellationToken);

    public Task<WriteResponse> TransferLeaderAsync(StoreId leader, ShardId shard, StoreId to, CancellationToken cancellationToken) =>
        CallAsync(leader, CallTimeoutMs, node => node.CoreOf(shard) is { } core ? ReplicaAdministration.TransferLeadershipAsync(core, to) : Task.FromResult(NoReplica(node, shard)), cancellationToken);

    public Task<WriteResponse> MergeAsync(StoreId store, MergeShardRequest request, CancellationToken cancellationToken) =>
        CallAsync(store, ChangeTimeoutMs, node => node.CoreOf(request.Shard) is { } core ? ReplicaAdministration.MergeAsync(core, request) : Task.FromResult(NoReplica(node, request.Shard)), cancellationToken);

    public Task<ReplicaAdminResult> DestroyAsync(StoreId store, ShardId shard, ulong peerId, CancellationToken cancellationToken) =>
        CallAsync(store, ChangeTimeoutMs, node => node.DestroyReplicaAsync(shard, peerId), cancellationToken);

    public Task<ReplicaAdminResult> DestroyOrphanAsync(OrphanReplica orphan, CancellationToken cancellationToken) =>
        CallAsync(orphan.Store, ChangeTimeoutMs, node => node.DestroyReplicaAsync(orphan.Shard, orphan.PeerId, orphan), cancellationToken);

    private static WriteResponse NoReplica(SimNode node, ShardId shard) =>
        new() { Code = NoKvErrorCode.WrongShard, Detail = $"store {node.Store} holds no replica of shard {shard}" };

    private async Task<T> CallAsync<T>(StoreId store, long timeoutMs, Func<SimNode, Task<T>> serve, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var node = _sim.Node(store);
        int life = node.Restarts;
        var call = ReachAsync(node, timeoutMs, serve);
        var expired = _sim.Delay(timeoutMs);
        bool answered = await _sim.FirstOfAsync(call, expired) == call;

        // A controller that died while it waited never learns the answer.
        cancellationToken.ThrowIfCancellationRequested();
        if (answered)
        {
            try
            {
                return await call;
            }
            catch (Exception e) when (e is not TimeoutException && node.Restarts == life && node.IsUp)
            {
                _sim.Violation($"store {store} failed a controller call: {e.GetType().Name}: {e.Message}");
                throw;
            }
            catch (Exception)
            {
                // Lost, or the store crashed under the call: no answer, as a dropped connection gives none.
            }
        }

        Unanswered++;
        throw new TimeoutException($"store {store} did not answer within {timeoutMs} ms");
    }

    private async Task<T> ReachAsync<T>(SimNode node, long timeoutMs, Func<SimNode, Task<T>> serve)
    {
        await _sim.Delay(1 + _sim.Random.Next(_sim.Options.MaxDelayMs));
        if (!node.IsUp || _sim.Network.IsIsolated(node.Store) || (_sim.Network.Faulty && _sim.Random.NextDouble() < _sim.Options.DropRate))
        {
            await _sim.Delay(timeoutMs + 1);
            throw new TimeoutException("lost");
        }

        await node.WhenRunningAsync();
        if (!node.IsUp)
        {
            throw new TimeoutException("the store went down");
        }

        var answer = await serve(node);
        await _sim.Delay(1 + _sim.Random.Next(_sim.Options.MaxDelayMs));
        if (_sim.Network.IsIsolated(node.Store) || (_sim.Network.Faulty && _sim.Random.NextDouble() < _sim.Options.DropRate))
        {
            await _sim.Delay(timeoutMs + 1);
            throw new TimeoutException("answer lost");
        }

        return answer;
    }
}
