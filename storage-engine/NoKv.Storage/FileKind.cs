namespace NoKv.Storage;

/// <summary>Kinds of files in a database directory (see <see cref="FileNames"/>).</summary>
internal enum FileKind
{
    Unknown,
    Log,
    Table,
    Manifest,
    Current,
    Lock,
    Temp,
    ValueFile,
}
