namespace NoKv.Abstractions.Sharding;

/// <summary>
/// The stable identity of one silo's storage engine. A store id is chosen by the operator, persisted in
/// the store's data directory on first start and never changes afterwards; a silo restarted on another
/// host with the same data directory is the same store. A store holds at most one replica of any shard;
/// the Raft identity of that replica is its peer id (<see cref="PeerDescriptor"/>), not the store id.
/// </summary>
[GenerateSerializer, Immutable, Alias("nokv.StoreId")]
public readonly record struct StoreId([property: Id(0)] int Value) : IComparable<StoreId>
{
    /// <summary>True for ids an operator may assign (1 and up; 0 is reserved as "none").</summary>
    public bool IsValid => Value > 0;

    public int CompareTo(StoreId other) => Value.CompareTo(other.Value);

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
