using NoKv.Abstractions.Requests;

namespace NoKv.Client;

/// <summary>Client behaviour. Validated when the store is first resolved (see <see cref="NoKvClientOptionsValidator"/>).</summary>
public sealed class NoKvClientOptions
{
    /// <summary>Longest key accepted; keys above it fail with KeyTooLarge before sending. Must match or be below the cluster's.</summary>
    public int MaxKeyBytes { get; set; } = KvLimits.DefaultMaxKeyBytes;

    /// <summary>Longest value accepted; values above it fail with ValueTooLarge before sending.</summary>
    public int MaxValueBytes { get; set; } = KvLimits.DefaultMaxValueBytes;

    /// <summary>Deadline of one operation including all retries, unless the caller's token fires first.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest wait for one grain call before trying another replica.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>First retry delay; doubles per failed attempt (with jitter) up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(20);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Send each request straight to the silo hosting the target replica, through that silo's store service,
    /// instead of through whichever gateway Orleans assigns to the replica grain (which forwards it when it is
    /// not the replica's silo). On by default; off, every request is a plain grain call.
    /// </summary>
    public bool DirectRouting { get; set; } = true;

    /// <summary>Entries fetched per scan call to one shard.</summary>
    public int ScanPageSize { get; set; } = 512;
}
