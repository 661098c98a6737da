namespace NoKv.Replica.Controller.Balancing;

/// <summary>A key the stores' hot-key trackers report for a shard, with the requests per second it certainly received (summed over stores).</summary>
public sealed record HotKeyRate(byte[] Key, double RequestsPerSecond);
