using ZoneTree;

namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>ZoneTree point reads. The lookup key array is reused (TryGet does not keep it); ZoneTree returns the stored value array.</summary>
internal sealed class ZoneTreeBenchReader : IBenchReader
{
    private readonly IZoneTree<byte[], byte[]> _tree;
    private byte[] _key = new byte[KeyValueFormat.KeySize];
    private byte[]? _value;

    public ZoneTreeBenchReader(IZoneTree<byte[], byte[]> tree) => _tree = tree;

    public ReadOnlySpan<byte> Value => _value;

    public bool TryGet(ReadOnlySpan<byte> key)
    {
        if (key.Length != _key.Length)
        {
            _key = new byte[key.Length];
        }
        key.CopyTo(_key);
        return _tree.TryGet(in _key, out _value);
    }

    public void Dispose()
    {
    }
}
