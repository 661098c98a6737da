namespace NoKv.Storage.Manifest;

/// <summary>Field tags of an encoded <see cref="VersionEdit"/> (docs/format-manifest.md). Written to disk: never renumber.</summary>
internal enum VersionEditTag : uint
{
    Comparator = 1,
    LogNumber = 2,
    NextFileNumber = 3,
    LastSequence = 4,
    CompactPointer = 5,
    DeletedFile = 6,
    NewFile = 7,
}
