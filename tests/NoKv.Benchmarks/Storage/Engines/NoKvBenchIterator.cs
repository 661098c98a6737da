using NoKv.Storage;

namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>NoKv iterator; spans are valid until the next move, as the engine documents.</summary>
internal sealed class NoKvBenchIterator : IBenchIterator
{
    private readonly StorageIterator _iterator;

    public NoKvBenchIterator(StorageIterator iterator) => _iterator = iterator;

    public bool Valid => _iterator.Valid;

    public ReadOnlySpan<byte> Key => _iterator.Key;

    public ReadOnlySpan<byte> Value => _iterator.Value;

    public void SeekToFirst() => _iterator.SeekToFirst();

    public void Seek(ReadOnlySpan<byte> key) => _iterator.Seek(key);

    public void Next() => _iterator.Next();

    public void Dispose() => _iterator.Dispose();
}
