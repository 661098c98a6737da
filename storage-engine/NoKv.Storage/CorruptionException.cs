namespace NoKv.Storage;

/// <summary>
/// Stored bytes failed a checksum or could not be decoded. The engine throws this instead of returning
/// anything it read from the damaged region: corrupt data is reported, never served.
/// </summary>
/// <remarks>
/// <see cref="Path"/> names the damaged file and <see cref="Offset"/> the byte offset inside it where the
/// damaged unit (block, log record, manifest record, footer) starts, so an operator can inspect it with a
/// hex dump against the matching docs/format-*.md page.
/// </remarks>
public class CorruptionException : Exception
{
    public CorruptionException(string path, long offset, string message, Exception? innerException = null)
        : base($"Corruption in '{path}' at offset {offset}: {message}", innerException)
    {
        Path = path;
        Offset = offset;
    }

    /// <summary>The damaged file.</summary>
    public string Path { get; }

    /// <summary>Byte offset in <see cref="Path"/> of the damaged unit.</summary>
    public long Offset { get; }
}
