namespace NoKv.Storage.Inspection;

/// <summary>A file in the database directory that is not a live table: a write-ahead log, a manifest, or a leftover.</summary>
/// <param name="Name">File name inside the directory.</param>
/// <param name="SizeBytes">Size on disk.</param>
/// <param name="Role">What the file is to the live state: "log" (replayed at open), "manifest" (the one CURRENT names),
/// "obsolete" (a log, table, manifest or temporary the next open deletes), "other" (not the engine's).</param>
public sealed record DatabaseFileInfo(string Name, long SizeBytes, string Role);
