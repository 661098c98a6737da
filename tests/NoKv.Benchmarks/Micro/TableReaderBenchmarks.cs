using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using NoKv.Storage.Cache;
using NoKv.Storage.Iterators;
using NoKv.Storage.Sstable;
using NoKv.Storage.Vfs;

namespace NoKv.Benchmarks.Micro;

/// <summary>
/// The table layer's read paths on a 100k-entry table of benchmark-shaped internal keys (16-byte user key,
/// 100-byte value) held in memory, with every block cached: the CPU cost of a point lookup that finds its
/// key, one the bloom filter rejects, and a seek. Point lookups should allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class TableReaderBenchmarks
{
    private const int Entries = 100_000;
    private readonly byte[] _lookup = new byte[24];
    private TableReader? _reader;
    private IInternalIterator? _iterator;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var fs = new MemFileSystem();
        fs.CreateDirectory("/bench");
        var options = new TableOptions { Comparer = InternalKeyComparer.Instance };
        using (IWritableFile file = fs.CreateWritable("/bench/1.sst"))
        {
            var builder = new TableBuilder(file, options);
            var value = new byte[100];
            new Random(1).NextBytes(value);
            var key = new byte[24];
            for (int i = 0; i < Entries; i++)
            {
                WriteUserKey(key, 2 * i);
                BinaryPrimitives.WriteUInt64LittleEndian(key.AsSpan(16), ((ulong)(i + 1) << 8) | 1);
                builder.Add(key, value);
            }

            builder.Finish();
        }

        _reader = TableReader.Open(fs.OpenRandomAccess("/bench/1.sst"), 1, options, new BlockCache(256 << 20));
        _iterator = _reader.NewIterator();
        for (_iterator.SeekToFirst(); _iterator.Valid; _iterator.Next())
        {
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _iterator?.Dispose();
        _reader?.Dispose();
    }

    [Benchmark]
    public bool GetHit() => _reader!.TryGet(NextLookup(present: true), out _, out _);

    [Benchmark]
    public bool GetMissFilteredOut() => _reader!.TryGet(NextLookup(present: false), out _, out _);

    [Benchmark]
    public bool Seek()
    {
        _iterator!.Seek(NextLookup(present: true));
        return _iterator.Valid;
    }

    private byte[] NextLookup(bool present)
    {
        // A multiplicative walk over the key space: random-looking, deterministic, no Random call.
        _next = (int)((_next + 40_503L) % Entries);
        WriteUserKey(_lookup, (2 * _next) + (present ? 0 : 1));
        BinaryPrimitives.WriteUInt64LittleEndian(_lookup.AsSpan(16), ulong.MaxValue);
        return _lookup;
    }

    private static void WriteUserKey(byte[] key, long id)
    {
        // 16 ASCII digits, as the storage benchmark's keys.
        Span<byte> digits = key.AsSpan(0, 16);
        for (int d = 15; d >= 0; d--)
        {
            digits[d] = (byte)('0' + (id % 10));
            id /= 10;
        }
    }
}
