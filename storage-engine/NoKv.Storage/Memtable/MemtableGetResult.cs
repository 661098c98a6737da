namespace NoKv.Storage.Memtable;

/// <summary>Outcome of a point lookup in one memtable.</summary>
internal enum MemtableGetResult
{
    /// <summary>No version of the key visible at the snapshot.</summary>
    NotFound,

    /// <summary>The newest visible version is a value.</summary>
    Found,

    /// <summary>The newest visible version is a point deletion.</summary>
    Deleted,
}
