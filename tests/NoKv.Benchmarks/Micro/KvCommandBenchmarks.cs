using BenchmarkDotNet.Attributes;
using NoKv.Abstractions.Requests;
using NoKv.Replica.Commands;

namespace NoKv.Benchmarks.Micro;

/// <summary>A put of a 16 B key and a 128 B value encoded into a log entry (every write) and decoded back (every apply).</summary>
[MemoryDiagnoser]
public class KvCommandBenchmarks
{
    private KvCommand _command = null!;
    private byte[] _encoded = [];

    [GlobalSetup]
    public void Setup()
    {
        _command = new KvCommand(WriteKind.Put, 3, new ClientSession(Guid.NewGuid(), 42), new byte[16], new byte[128], null, 1_700_000_000_000);
        _encoded = _command.Encode();
    }

    [Benchmark]
    public int Encode() => _command.Encode().Length;

    [Benchmark]
    public int Decode() => KvCommand.Decode(_encoded).Key.Length;
}
