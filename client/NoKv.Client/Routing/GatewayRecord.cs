namespace NoKv.Client.Routing;

/// <summary>
/// What route discovery knows of one listed gateway: when it was first listed (TimeProvider timestamps), whether it was
/// already listed at the first discovery, and when a request or discovery through it last failed.
/// </summary>
internal readonly record struct GatewayRecord(long FirstSeen, bool Initial, long? LastFailure);
