namespace NoKv.Grains.Raft;

/// <summary>
/// A Raft batch whose header names a wire version this build cannot read: the sender runs a newer build.
/// The batch is dropped (Raft tolerates the loss) and the receiver warns once per peer and interval; it is not
/// corruption. See docs/format-raft-wire.md.
/// </summary>
internal sealed class UnsupportedWireVersionException : FormatException
{
    public UnsupportedWireVersionException(int version, int minSupported, int maxSupported)
        : base($"Raft batch is in wire version {version}; this build reads versions {minSupported} to {maxSupported}. " +
            "The sender runs a newer build: upgrade this store.")
    {
        Version = version;
        MinSupported = minSupported;
        MaxSupported = maxSupported;
    }

    /// <summary>The version named by the batch header.</summary>
    public int Version { get; }

    public int MinSupported { get; }

    public int MaxSupported { get; }
}
