namespace NoKv.Storage.Db;

/// <summary>Receives a found value. Implemented by structs so the lookup is specialized per sink (no boxing).</summary>
internal interface IValueSink
{
    void Set(ReadOnlySpan<byte> value);
}
