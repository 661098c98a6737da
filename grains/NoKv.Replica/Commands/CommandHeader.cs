namespace NoKv.Replica.Commands;

/// <summary>
/// The first bytes of a command entry, read by <see cref="CommandEnvelope.ReadHeader"/> so the state machine can
/// dispatch on <see cref="Type"/> before decoding the body.
/// </summary>
/// <param name="Version">The envelope's format version; 0 for an entry of the legacy tag format (tags 1 to 3,
/// written before the envelope), whose tag is the entry's first byte.</param>
/// <param name="Type">What the command does.</param>
/// <param name="BodyOffset">Where the type's body starts in the entry.</param>
internal readonly record struct CommandHeader(int Version, CommandType Type, int BodyOffset)
{
    /// <summary>The entry predates the envelope (first byte 1, 2 or 3).</summary>
    public bool IsLegacy => Version == 0;
}
