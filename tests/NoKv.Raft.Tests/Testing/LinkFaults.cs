namespace NoKv.Raft.Tests.Testing;

/// <summary>How one directed link misbehaves: loss, duplication and a delay range (a range wider than
/// the send interval reorders messages). Delays are virtual milliseconds.</summary>
/// <param name="DropRate">Probability in [0, 1] that a sent message is lost.</param>
/// <param name="DuplicateRate">Probability in [0, 1] that a delivered message is delivered a second time
/// (with its own delay, so the copy may overtake the original).</param>
/// <param name="MinDelay">Smallest one-way delay.</param>
/// <param name="MaxDelay">Largest one-way delay for ordinary messages.</param>
/// <param name="LongDelayRate">Probability that a message is instead held for up to <paramref name="LongDelay"/>
/// (the "very late message" that resurrects stale terms and old log suffixes).</param>
/// <param name="LongDelay">Upper bound of a long delay.</param>
public readonly record struct LinkFaults(
    double DropRate,
    double DuplicateRate,
    long MinDelay,
    long MaxDelay,
    double LongDelayRate = 0,
    long LongDelay = 0)
{
    /// <summary>No loss, no duplication, short delays with some reordering.</summary>
    public static LinkFaults Reliable { get; } = new(0, 0, 1, 5);

    /// <summary>Loss, duplication, wide delays and occasional very late messages.</summary>
    public static LinkFaults Unreliable { get; } = new(0.1, 0.05, 1, 27, 0.02, 400);

    public void Validate()
    {
        if (DropRate is < 0 or > 1 || DuplicateRate is < 0 or > 1 || LongDelayRate is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DropRate), "rates must lie in [0, 1]");
        }

        if (MinDelay < 0 || MaxDelay < MinDelay || LongDelay < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MinDelay), "delays must satisfy 0 <= min <= max and long >= 0");
        }
    }

    public override string ToString() =>
        $"drop={DropRate:0.###} dup={DuplicateRate:0.###} delay={MinDelay}..{MaxDelay} long={LongDelayRate:0.###}/{LongDelay}";
}
