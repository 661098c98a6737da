namespace NoKv.Storage.Db;

/// <summary>Receives a found value. Implemented by structs so the lookup is specialized per sink (no boxing).</summary>
internal interface IValueSink
{
    void Set(ReadOnlySpan<byte> value);

    /// <summary>A buffer of exactly <paramref name="size"/> bytes to read a value into; <see cref="Commit"/> makes it the value.</summary>
    Span<byte> Reserve(int size);

    /// <summary>The reserved buffer holds the value (checked). Not called when the read failed.</summary>
    void Commit(int size);
}
