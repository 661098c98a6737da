using BenchmarkDotNet.Attributes;
using NoKv.Storage.Encoding;

namespace NoKv.Benchmarks.Micro;

/// <summary>CRC32C over a WAL record-sized buffer and a data-block-sized buffer (every block read verifies one).</summary>
[MemoryDiagnoser]
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    [Params(116, 4096)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Length];
        new Random(7).NextBytes(_data);
    }

    [Benchmark]
    public uint Compute() => Crc32C.Compute(_data);
}
