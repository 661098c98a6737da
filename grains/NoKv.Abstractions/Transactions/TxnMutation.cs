namespace NoKv.Abstractions.Transactions;

/// <summary>One write of a transaction: a put (Value set) or a delete (Value null).</summary>
[GenerateSerializer, Immutable, Alias("nokv.TxnMutation")]
public readonly record struct TxnMutation([property: Id(0)] byte[] Key, [property: Id(1)] byte[]? Value);
