namespace NoKv.Abstractions.Transactions;

/// <summary>A range [Start, End) a transaction scanned; an empty End is unbounded (clipped to the shard).</summary>
[GenerateSerializer, Immutable, Alias("nokv.TxnKeyRange")]
public readonly record struct TxnKeyRange([property: Id(0)] byte[] Start, [property: Id(1)] byte[] End);
