namespace NoKv.Abstractions.Controller;

/// <summary>
/// Timestamps <see cref="First"/> to <see cref="First"/> + <see cref="Count"/> - 1 from the controller's timestamp
/// oracle. Every one of them is larger than any timestamp the oracle handed to anyone before the request that got
/// this batch was made (real-time order), and the oracle never hands out a timestamp twice, across controller leader
/// changes and crashes included. Timestamps are positive; their high bits follow the controller leader's wall clock
/// in milliseconds (<see cref="LogicalBits"/> low bits count within a millisecond), so they also say roughly when.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.TimestampBatch")]
public readonly record struct TimestampBatch([property: Id(0)] long First, [property: Id(1)] int Count)
{
    /// <summary>Low bits of a timestamp that count within one millisecond of the physical part.</summary>
    public const int LogicalBits = 18;

    /// <summary>Most timestamps one request may ask for.</summary>
    public const int MaxCount = 1 << 20;

    /// <summary>The last timestamp of the batch.</summary>
    public long Last => First + Count - 1;

    /// <summary>The wall-clock Unix milliseconds encoded in <paramref name="timestamp"/> (at or before when it was issued).</summary>
    public static long PhysicalMs(long timestamp) => timestamp >> LogicalBits;
}
