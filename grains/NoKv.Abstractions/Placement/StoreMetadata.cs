namespace NoKv.Abstractions.Placement;

/// <summary>Silo metadata keys a NoKV silo advertises through Orleans membership.</summary>
public static class StoreMetadata
{
    /// <summary>The silo's store id in invariant decimal.</summary>
    public const string StoreIdKey = "nokv.store";
}
