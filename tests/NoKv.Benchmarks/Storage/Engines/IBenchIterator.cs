namespace NoKv.Benchmarks.Storage.Engines;

/// <summary>Forward iteration for one thread. <see cref="Key"/> and <see cref="Value"/> are valid until the next move.</summary>
public interface IBenchIterator : IDisposable
{
    bool Valid { get; }

    void SeekToFirst();

    /// <summary>Positions at the first key &gt;= <paramref name="key"/>.</summary>
    void Seek(ReadOnlySpan<byte> key);

    void Next();

    ReadOnlySpan<byte> Key { get; }

    ReadOnlySpan<byte> Value { get; }
}
