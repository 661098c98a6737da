using BenchmarkDotNet.Attributes;
using NoKv.Storage.Sstable;

namespace NoKv.Benchmarks.Micro;

/// <summary>
/// Internal-key comparison, the innermost operation of memtable inserts, block seeks and merging:
/// 16-byte user keys that share a 12-byte prefix (as the benchmark's decimal keys do), then the trailer.
/// </summary>
[MemoryDiagnoser]
public class InternalKeyComparerBenchmarks
{
    private byte[] _a = [];
    private byte[] _b = [];
    private byte[] _sameUserKey = [];

    [GlobalSetup]
    public void Setup()
    {
        _a = InternalKeyComparer.MakeKey("0000000000123456"u8, 100, 1);
        _b = InternalKeyComparer.MakeKey("0000000000123458"u8, 100, 1);
        _sameUserKey = InternalKeyComparer.MakeKey("0000000000123456"u8, 99, 1);
    }

    [Benchmark]
    public int DifferentUserKeys() => InternalKeyComparer.Instance.Compare(_a, _b);

    [Benchmark]
    public int SameUserKeyDifferentSequence() => InternalKeyComparer.Instance.Compare(_a, _sameUserKey);
}
