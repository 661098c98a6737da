namespace NoKv.Silo.Http.Api;

/// <summary>A recent event of a replica (leader elected, election started, snapshot installed, ...).</summary>
public sealed record ApiEvent(long UnixMs, int Store, long Shard, string Kind, string Detail);
