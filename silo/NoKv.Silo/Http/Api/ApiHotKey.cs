namespace NoKv.Silo.Http.Api;

/// <summary>
/// A key the shard leaders served often in their last window (about 10 s): the key as printable text (bytes outside
/// printable ASCII escaped as \xNN), its shard, and requests per second that certainly were for it.
/// </summary>
public sealed record ApiHotKey(string Key, long Shard, double RequestsPerSecond);
