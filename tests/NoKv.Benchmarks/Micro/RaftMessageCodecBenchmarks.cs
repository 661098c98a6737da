using System.Buffers;
using BenchmarkDotNet.Attributes;
using NoKv.Grains.Raft;
using NoKv.Raft.Messages;

namespace NoKv.Benchmarks.Micro;

/// <summary>
/// The Raft wire codec on the replication path: a batch of one Append with 16 entries of 128 B plus one
/// heartbeat (what a busy leader sends a follower per pump), encoded into a reused writer and decoded back.
/// </summary>
[MemoryDiagnoser]
public class RaftMessageCodecBenchmarks
{
    private readonly ArrayBufferWriter<byte> _writer = new(64 << 10);
    private Message[] _batch = [];
    private byte[] _payload = [];

    [GlobalSetup]
    public void Setup()
    {
        var entries = new Entry[16];
        for (int i = 0; i < entries.Length; i++)
        {
            var data = new byte[128];
            new Random(i).NextBytes(data);
            entries[i] = new Entry(5, (ulong)(1000 + i), data);
        }

        _batch =
        [
            new Message { Type = MessageType.Append, From = 1, To = 2, Term = 5, LogTerm = 5, Index = 999, Commit = 990, Entries = entries },
            new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 5, LogTerm = 77, Index = 12, Commit = 990 },
        ];
        EncodeBatch();
        _payload = _writer.WrittenSpan.ToArray();
    }

    [Benchmark]
    public int EncodeBatch()
    {
        _writer.ResetWrittenCount();
        foreach (var message in _batch)
        {
            RaftMessageCodec.Write(_writer, message);
        }

        return _writer.WrittenCount;
    }

    [Benchmark]
    public int DecodeBatch() => RaftMessageCodec.ReadAll(_payload, _batch.Length).Length;
}
