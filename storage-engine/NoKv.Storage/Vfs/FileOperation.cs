namespace NoKv.Storage.Vfs;

/// <summary>Kinds of file-system operations a <see cref="IFaultInjector"/> can fail. Flags, so injectors can match sets.</summary>
[Flags]
public enum FileOperation
{
    None = 0,
    Create = 1 << 0,
    OpenAppend = 1 << 1,
    OpenRead = 1 << 2,
    Read = 1 << 3,
    Append = 1 << 4,
    Flush = 1 << 5,
    Sync = 1 << 6,
    Delete = 1 << 7,
    Rename = 1 << 8,
    SyncDirectory = 1 << 9,
    CreateDirectory = 1 << 10,
    List = 1 << 11,
    Lock = 1 << 12,

    /// <summary>Every operation that changes bytes or names.</summary>
    AnyWrite = Create | Append | Flush | Sync | Delete | Rename | SyncDirectory,

    All = (1 << 13) - 1,
}
