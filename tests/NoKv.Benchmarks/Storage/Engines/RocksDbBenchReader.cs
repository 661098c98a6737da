using RocksDbSharp;

namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>
/// RocksDB point reads through the deserializer overload: RocksDbSharp hands over the pinned native
/// value as a span, which is copied into a reusable buffer, so a get allocates nothing managed.
/// </summary>
internal sealed class RocksDbBenchReader : IBenchReader, ISpanDeserializer<int>
{
    private readonly RocksDb _db;
    private readonly ReadOptions _readOptions;
    private byte[] _buffer = new byte[256];
    private int _length;

    public RocksDbBenchReader(RocksDb db, ReadOptions readOptions)
    {
        _db = db;
        _readOptions = readOptions;
    }

    public ReadOnlySpan<byte> Value => _buffer.AsSpan(0, _length);

    public bool TryGet(ReadOnlySpan<byte> key)
    {
        // Deserialize returns length + 1 so that 0, RocksDbSharp's result for "not found", is unambiguous.
        var result = _db.Get(key, this, null, _readOptions);
        if (result == 0)
        {
            return false;
        }
        _length = result - 1;
        return true;
    }

    public int Deserialize(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length > _buffer.Length)
        {
            _buffer = new byte[buffer.Length];
        }
        buffer.CopyTo(_buffer);
        return buffer.Length + 1;
    }

    public void Dispose()
    {
    }
}
