namespace NoKv.Storage.Inspection;

/// <summary>
/// The outcome of <see cref="DatabaseInspector.Verify"/>. <see cref="IsClean"/> is false exactly when
/// <see cref="Problems"/> is not empty; <see cref="Notes"/> are conditions that are not damage (an unsynced log tail
/// that recovery drops, files the next open deletes).
/// </summary>
public sealed class VerificationReport
{
    public int TablesChecked { get; init; }

    /// <summary>Table blocks whose checksum was verified: data blocks plus each table's index, filter and properties blocks.</summary>
    public long BlocksChecked { get; init; }

    public long TableBytesChecked { get; init; }

    /// <summary>Point entries decoded from data blocks, in order.</summary>
    public long EntriesChecked { get; init; }

    /// <summary>Live value files read in full (value log).</summary>
    public int ValueFilesChecked { get; init; }

    /// <summary>Values whose record checksums were checked in those files.</summary>
    public long ValuesChecked { get; init; }

    public int LogsChecked { get; init; }

    /// <summary>Write-ahead log records whose checksum was verified (and decoded as write batches).</summary>
    public long LogRecordsChecked { get; init; }

    public IReadOnlyList<VerificationProblem> Problems { get; init; } = [];

    public IReadOnlyList<string> Notes { get; init; } = [];

    public bool IsClean => Problems.Count == 0;
}
