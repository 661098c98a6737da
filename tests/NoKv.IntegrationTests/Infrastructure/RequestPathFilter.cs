using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Requests;
using Orleans.Runtime;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// Incoming grain-call filter on every test silo: classifies each client request (write, get, scan) arriving at
/// a replica grain by its caller into <see cref="RequestPaths"/>. Direct means the caller is a system target on
/// this same silo, i.e. the silo's store service, which a client reaches without a forwarding hop.
/// </summary>
public sealed class RequestPathFilter : IIncomingGrainCallFilter
{
    private readonly RequestPaths _paths;
    private readonly SiloAddress _silo;

    public RequestPathFilter(RequestPaths paths, ILocalSiloDetails silo)
    {
        _paths = paths;
        _silo = silo.SiloAddress;
    }

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IShardReplicaGrain)
            && context.Request.GetArgumentCount() >= 1
            && context.Request.GetArgument(0) is WriteRequest or WriteRequest[] or ReadRequest or ScanRequest
            && ShardOf(context.Request.GetArgument(0)) != NoKv.Abstractions.Sharding.SystemShards.Controller)
        {
            // The controller group's own traffic (the controller logic reading its rows from inside the cluster) is
            // not a client request; only requests for user shards say how clients are routed.
            bool direct = context.SourceId is { } source
                && SystemTargetGrainId.TryParse(source, out var systemTarget)
                && systemTarget.GetSiloAddress().Equals(_silo);
            _paths.Record(direct, $"{context.MethodName} to {context.TargetId} from {context.SourceId?.ToString() ?? "unknown"} at {_silo}");
        }

        return context.Invoke();
    }

    private static NoKv.Abstractions.Sharding.ShardId ShardOf(object? request) => request switch
    {
        WriteRequest w => w.Shard,
        WriteRequest[] { Length: > 0 } batch => batch[0].Shard,
        ReadRequest r => r.Shard,
        ScanRequest s => s.Shard,
        _ => default,
    };
}
