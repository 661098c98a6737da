namespace NoKv.Resp.Execution;

/// <summary>A key named by WATCH and the value it had then (null = absent).</summary>
internal sealed record WatchedKey(byte[] Key, byte[]? Value);
