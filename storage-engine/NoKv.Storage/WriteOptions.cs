namespace NoKv.Storage;

/// <summary>Per-write settings. Immutable, so the shared <see cref="Default"/> and <see cref="Synced"/> are safe.</summary>
public sealed class WriteOptions
{
    /// <summary>Buffered: survives a process crash once acknowledged, not necessarily a power loss.</summary>
    public static WriteOptions Default { get; } = new();

    /// <summary>Durable on return: the write-ahead log is fsynced (shared with concurrent writers).</summary>
    public static WriteOptions Synced { get; } = new() { Sync = true };

    /// <summary>When true the call returns only after the write-ahead log holding the write is fsynced.</summary>
    public bool Sync { get; init; }
}
