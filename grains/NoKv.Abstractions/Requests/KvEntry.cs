namespace NoKv.Abstractions.Requests;

/// <summary>One key and its value, as returned by scans.</summary>
[GenerateSerializer, Immutable, Alias("nokv.KvEntry")]
public readonly record struct KvEntry([property: Id(0)] byte[] Key, [property: Id(1)] byte[] Value);
