using ZoneTree;

namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>
/// ZoneTree iterator adapted to seek-then-read semantics: ZoneTree's Seek positions before the
/// target and the following Next() lands on it, so every positioning call is followed by Next().
/// </summary>
internal sealed class ZoneTreeBenchIterator : IBenchIterator
{
    private readonly IZoneTreeIterator<byte[], byte[]> _iterator;
    private bool _valid;

    public ZoneTreeBenchIterator(IZoneTreeIterator<byte[], byte[]> iterator) => _iterator = iterator;

    public bool Valid => _valid;

    public ReadOnlySpan<byte> Key => _iterator.CurrentKey;

    public ReadOnlySpan<byte> Value => _iterator.CurrentValue;

    public void SeekToFirst()
    {
        _iterator.SeekFirst();
        _valid = _iterator.Next();
    }

    public void Seek(ReadOnlySpan<byte> key)
    {
        var target = key.ToArray();
        _iterator.Seek(in target);
        _valid = _iterator.Next();
    }

    public void Next() => _valid = _iterator.Next();

    public void Dispose() => _iterator.Dispose();
}
