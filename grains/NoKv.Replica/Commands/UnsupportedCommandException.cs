namespace NoKv.Replica.Commands;

/// <summary>
/// A well-formed command envelope that this build cannot apply: a format version newer than it reads, or a
/// command type (or a value inside a known type, such as a write kind) added after it was built. Written by a
/// newer build during a rolling upgrade: the cure is to upgrade this store, not to repair data. See
/// docs/format-commands.md for what a replica does meanwhile.
/// </summary>
internal sealed class UnsupportedCommandException : FormatException
{
    public UnsupportedCommandException(int version, byte type, string what)
        : base($"Log entry holds {what} (command format version {version}); this build reads versions " +
            $"{CommandEnvelope.MinVersion} to {CommandEnvelope.CurrentVersion} and the legacy tags. " +
            "It was written by a newer build: upgrade this store.")
    {
        Version = version;
        Type = type;
    }

    /// <summary>The envelope's version as read.</summary>
    public int Version { get; }

    /// <summary>The command type byte as read (a <see cref="CommandType"/> value this build may not define).</summary>
    public byte Type { get; }
}
