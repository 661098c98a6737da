namespace NoKv.Client;

/// <summary>A value with its expiry, as read from the shard leader (<see cref="IKvStore.GetWithExpiryAsync"/>).</summary>
/// <param name="Value">The value's bytes.</param>
/// <param name="ExpiresAt">When it expires, by the leader's clock; null when it never does.</param>
/// <param name="TimeToLive">How long it had left when the leader read it (its expiry minus the leader's clock then); null when it never expires.</param>
public sealed record KvValue(byte[] Value, DateTimeOffset? ExpiresAt, TimeSpan? TimeToLive);
