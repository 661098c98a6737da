using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// Incoming grain-call filter on one test silo: while its store is frozen (<see cref="FrozenStores"/>), client
/// requests (write, get, scan) to its replicas get no answer until the thaw. Everything else passes untouched.
/// </summary>
public sealed class FreezeFilter(FrozenStores frozen, StoreId store) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IShardReplicaGrain)
            && context.Request.GetArgumentCount() >= 1
            && context.Request.GetArgument(0) is WriteRequest or WriteRequest[] or ReadRequest or ScanRequest
            && ReplicaId.TryParse(context.TargetId.Key.ToString(), out var replica)
            && replica.Store == store
            && frozen.Hold(replica, context.InterfaceMethod.Name) is { } thaw)
        {
            await thaw;
        }

        await context.Invoke();
    }
}
