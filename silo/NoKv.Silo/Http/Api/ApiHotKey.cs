namespace NoKv.Silo.Http.Api;

/// <summary>A key the controller sees as hot, with its shard and recent request rate.</summary>
public sealed record ApiHotKey(string Key, long Shard, double RequestsPerSecond);
