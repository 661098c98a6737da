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

    // Value log (docs/format-value-file.md). A build that predates them stops at the first one with "unknown field
    // tag", so it never opens a database whose tables hold value pointers it would misread.
    ValueFile = 8,
    ValueFileGarbage = 9,
    DeletedValueFile = 10,
    TableValueFiles = 11,
}
