using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Ycsb;

/// <summary>
/// Zipfian-distributed integers in [0, items), item 0 the most popular, with YCSB's constant 0.99, by the method
/// of Gray et al. ("Quickly generating billion-record synthetic databases", SIGMOD 1994) that YCSB uses: one
/// uniform draw and one power per value, after computing zeta(items) once. The item count may grow between
/// calls (the "latest" distribution follows inserts); zeta is then extended by the new terms only.
/// One instance per thread.
/// </summary>
public sealed class ZipfianGenerator
{
    public const double Theta = 0.99;

    private static readonly double Zeta2 = 1 + Math.Pow(0.5, Theta);
    private static readonly double Alpha = 1 / (1 - Theta);

    private long _itemsForZeta;
    private double _zetaN;
    private double _eta;

    /// <param name="items">Initial item count.</param>
    /// <param name="zetaN">zeta(items, 0.99) when known in closed form (a huge fixed count); null computes it.</param>
    public ZipfianGenerator(long items, double? zetaN = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(items, 1);
        _itemsForZeta = items;
        _zetaN = zetaN ?? Zeta(0, items, 0);
        _eta = Eta(items, _zetaN);
    }

    /// <summary>A value in [0, <paramref name="items"/>); items must not shrink below the count of an earlier call.</summary>
    public long Next(ref SplitMix64 random, long items)
    {
        if (items > _itemsForZeta)
        {
            _zetaN = Zeta(_itemsForZeta, items, _zetaN);
            _itemsForZeta = items;
            _eta = Eta(items, _zetaN);
        }

        double u = (random.Next() >> 11) * (1.0 / (1UL << 53));
        double uz = u * _zetaN;
        if (uz < 1)
        {
            return 0;
        }

        if (uz < 1 + Math.Pow(0.5, Theta))
        {
            return Math.Min(1, items - 1);
        }

        long value = (long)(_itemsForZeta * Math.Pow((_eta * u) - _eta + 1, Alpha));
        return Math.Min(value, items - 1);
    }

    /// <summary>zeta(to) = sum over i in [1, to] of 1 / i^theta, extended from zeta(from) = <paramref name="zetaFrom"/>.</summary>
    private static double Zeta(long from, long to, double zetaFrom)
    {
        double sum = zetaFrom;
        for (long i = from; i < to; i++)
        {
            sum += 1 / Math.Pow(i + 1, Theta);
        }

        return sum;
    }

    private static double Eta(long items, double zetaN) => (1 - Math.Pow(2.0 / items, 1 - Theta)) / (1 - (Zeta2 / zetaN));
}
