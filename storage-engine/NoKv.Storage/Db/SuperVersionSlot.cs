namespace NoKv.Storage.Db;

/// <summary>One thread's entry in the <see cref="SuperVersionCache"/> (see there for the protocol).</summary>
internal sealed class SuperVersionSlot
{
    /// <summary>null, the cache's in-use marker, or a <see cref="SuperVersion"/> this slot holds one reference on. Accessed only with atomic swaps.</summary>
    public object? Value;
}
