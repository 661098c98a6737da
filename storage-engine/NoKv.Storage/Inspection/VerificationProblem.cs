namespace NoKv.Storage.Inspection;

/// <summary>Damage found by <see cref="DatabaseInspector.Verify"/>: where, and what is wrong.</summary>
/// <param name="Path">The damaged file.</param>
/// <param name="Offset">Byte offset of the damaged block or record (0 when the whole file is the problem).</param>
/// <param name="Message">What failed (checksum mismatch, truncated block, missing file, size mismatch, ...).</param>
public sealed record VerificationProblem(string Path, long Offset, string Message);
