using System.Reflection;
using NoKv.Abstractions.Grains;

namespace NoKv.Abstractions.Security;

/// <summary>
/// Where a call's credential travels: an entry of the Orleans RequestContext under <see cref="Key"/>, holding an
/// <see cref="AuthToken"/> string. Only calls to NoKV's own interfaces (every grain interface and grain service in this
/// assembly) carry and need one: the replica grains (client requests, status and Raft delivery), the store and status
/// services, the shard map and the timestamp oracle.
/// </summary>
public static class AuthRequestContext
{
    /// <summary>The RequestContext key. Part of the wire contract between clients and silos: never change it.</summary>
    public const string Key = "nokv.auth";

    private static readonly Assembly Contracts = typeof(IShardMapGrain).Assembly;

    /// <summary>True when <paramref name="interfaceMethod"/> belongs to a NoKV grain interface or grain service.</summary>
    public static bool IsNoKvCall(MethodInfo? interfaceMethod) => interfaceMethod?.DeclaringType?.Assembly == Contracts;
}
