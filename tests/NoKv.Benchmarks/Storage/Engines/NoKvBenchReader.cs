using System.Buffers;
using NoKv.Storage;

namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>NoKv point reads into a reused buffer writer: no allocation per get on the engine's fast path.</summary>
internal sealed class NoKvBenchReader : IBenchReader
{
    private readonly Database _db;
    private readonly ArrayBufferWriter<byte> _value = new(256);

    public NoKvBenchReader(Database db) => _db = db;

    public ReadOnlySpan<byte> Value => _value.WrittenSpan;

    public bool TryGet(ReadOnlySpan<byte> key)
    {
        _value.ResetWrittenCount();
        return _db.TryGet(key, _value);
    }

    public void Dispose()
    {
    }
}
