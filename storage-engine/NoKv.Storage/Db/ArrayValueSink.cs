namespace NoKv.Storage.Db;

/// <summary>Copies the value into a new array (the one allocation of <see cref="Database.Get"/>).</summary>
internal struct ArrayValueSink : IValueSink
{
    public byte[]? Value;

    private byte[]? _reserved;

    public void Set(ReadOnlySpan<byte> value) => Value = value.ToArray();

    public Span<byte> Reserve(int size) => _reserved = new byte[size];

    public void Commit(int size) => Value = _reserved;
}
