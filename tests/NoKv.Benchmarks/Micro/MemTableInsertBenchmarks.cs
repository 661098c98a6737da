using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using NoKv.Benchmarks.Common;
using NoKv.Storage;
using NoKv.Storage.Memtable;

namespace NoKv.Benchmarks.Micro;

/// <summary>
/// Memtable inserts into a large memtable (its arena far beyond the CPU caches, as a silo's 64 MiB one is):
/// random 16-byte keys (all digits random, or only the last 8 as in the cluster benchmark), ascending ones, and a silo's engine pattern (per shard a log with an ascending index,
/// state rows written again on every Ready, random data keys and session rows). One operation fills a fresh
/// memtable with <see cref="Entries"/> entries; divide by it for the cost of one insert.
/// </summary>
public class MemTableInsertBenchmarks
{
    public const int Entries = 400_000;

    private byte[][] _keys = [];

    [Params("random", "random-shared-head", "ascending", "raft")]
    public string Pattern { get; set; } = "random";

    [GlobalSetup]
    public void Setup()
    {
        var random = new SplitMix64(7);
        _keys = new byte[Entries][];
        switch (Pattern)
        {
            case "random":
                for (int i = 0; i < Entries; i++)
                {
                    _keys[i] = System.Text.Encoding.ASCII.GetBytes($"{random.Next() % 10_000_000_000_000_000UL:D16}");
                }

                break;
            case "random-shared-head":
                // The cluster benchmark's keys: 16 decimal digits below 10^8, so the first 8 bytes are all '0'.
                for (int i = 0; i < Entries; i++)
                {
                    _keys[i] = System.Text.Encoding.ASCII.GetBytes($"{random.Next() % 100_000_000UL:D16}");
                }

                break;
            case "ascending":
                for (int i = 0; i < Entries; i++)
                {
                    _keys[i] = System.Text.Encoding.ASCII.GetBytes($"{2L * i:D16}");
                }

                break;
            default:
                var next = new long[3];
                int k = 0;
                while (k < Entries)
                {
                    // One Ready of one shard: 8 log entries, the hard state, 8 data keys and session rows, the apply state.
                    int shard = (int)(random.Next() % 3);
                    for (int e = 0; e < 8 && k < Entries; e++)
                    {
                        var log = new byte[18];
                        log[0] = 1;
                        log[8] = (byte)shard;
                        log[9] = 1;
                        BinaryPrimitives.WriteInt64BigEndian(log.AsSpan(10), ++next[shard]);
                        _keys[k++] = log;
                    }

                    if (k < Entries)
                    {
                        _keys[k++] = [1, 0, 0, 0, 0, 0, 0, 0, (byte)shard, 2];
                    }

                    for (int e = 0; e < 8 && k + 1 < Entries; e++)
                    {
                        var data = new byte[17];
                        data[0] = 2;
                        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(1), random.Next());
                        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(9), random.Next());
                        _keys[k++] = data;
                        var session = new byte[26];
                        session[0] = 1;
                        session[8] = (byte)shard;
                        session[9] = 5;
                        BinaryPrimitives.WriteUInt64BigEndian(session.AsSpan(10), random.Next() % 64);
                        _keys[k++] = session;
                    }

                    if (k < Entries)
                    {
                        _keys[k++] = [1, 0, 0, 0, 0, 0, 0, 0, (byte)shard, 4];
                    }
                }

                break;
        }
    }

    [Benchmark(OperationsPerInvoke = Entries)]
    public long Insert()
    {
        var mem = new MemTable(1, 64 << 20);
        ReadOnlySpan<byte> value = stackalloc byte[100];
        byte[][] keys = _keys;
        for (int i = 0; i < keys.Length; i++)
        {
            mem.Add((ulong)i + 1, ValueKind.Value, keys[i], value);
        }

        return mem.EntryCount;
    }
}
