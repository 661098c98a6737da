using RocksDbSharp;

namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>RocksDB iterator; key and value spans point into native memory owned by the iterator.</summary>
internal sealed class RocksDbBenchIterator : IBenchIterator
{
    private readonly Iterator _iterator;

    public RocksDbBenchIterator(Iterator iterator) => _iterator = iterator;

    public bool Valid => _iterator.Valid();

    public ReadOnlySpan<byte> Key => _iterator.GetKeySpan();

    public ReadOnlySpan<byte> Value => _iterator.GetValueSpan();

    public void SeekToFirst() => _iterator.SeekToFirst();

    public void Seek(ReadOnlySpan<byte> key) => _iterator.Seek(key);

    public void Next() => _iterator.Next();

    public void Dispose() => _iterator.Dispose();
}
