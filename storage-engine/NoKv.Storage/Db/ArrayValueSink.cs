namespace NoKv.Storage.Db;

/// <summary>Copies the value into a new array (the one allocation of <see cref="Database.Get"/>).</summary>
internal struct ArrayValueSink : IValueSink
{
    public byte[]? Value;

    public void Set(ReadOnlySpan<byte> value) => Value = value.ToArray();
}
