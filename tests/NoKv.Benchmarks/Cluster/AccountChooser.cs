namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// Picks accounts for the transaction benchmark: uniformly, or zipfian with any exponent (the contention curve
/// runs 0.5 to 1.2, past where the closed-form generator of YCSB works, theta &lt; 1), by inverting a cumulative
/// table. Popularity ranks are shuffled over the accounts with a fixed seed, so the hot accounts fall in every
/// shard rather than all in the first. Immutable after construction; thread-safe.
/// </summary>
public sealed class AccountChooser
{
    private readonly double[]? _cumulative;
    private readonly int[]? _accountOfRank;
    private readonly int _accounts;

    private AccountChooser(int accounts, double[]? cumulative, int[]? accountOfRank)
    {
        _accounts = accounts;
        _cumulative = cumulative;
        _accountOfRank = accountOfRank;
    }

    /// <summary>The zipfian exponent, or null for uniform choice.</summary>
    public double? Theta { get; private init; }

    public static AccountChooser Uniform(int accounts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(accounts, 2);
        return new AccountChooser(accounts, null, null);
    }

    public static AccountChooser Zipfian(int accounts, double theta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(accounts, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(theta);
        var cumulative = new double[accounts];
        double sum = 0;
        for (int rank = 0; rank < accounts; rank++)
        {
            sum += 1 / Math.Pow(rank + 1, theta);
            cumulative[rank] = sum;
        }

        for (int rank = 0; rank < accounts; rank++)
        {
            cumulative[rank] /= sum;
        }

        var accountOfRank = Enumerable.Range(0, accounts).ToArray();
        new Random(20261206).Shuffle(accountOfRank);
        return new AccountChooser(accounts, cumulative, accountOfRank) { Theta = theta };
    }

    /// <summary><paramref name="count"/> distinct accounts.</summary>
    public long[] Pick(Random random, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _accounts);
        var picked = new HashSet<long>();
        while (picked.Count < count)
        {
            picked.Add(Next(random));
        }

        return picked.ToArray();
    }

    private int Next(Random random)
    {
        if (_cumulative is null)
        {
            return random.Next(_accounts);
        }

        int rank = Array.BinarySearch(_cumulative, random.NextDouble());
        rank = rank >= 0 ? rank : Math.Min(~rank, _accounts - 1);
        return _accountOfRank![rank];
    }
}
