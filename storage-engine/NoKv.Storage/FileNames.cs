using System.Globalization;

namespace NoKv.Storage;

/// <summary>
/// Names of the files in a database directory: <c>NNNNNN.log</c> (write-ahead logs), <c>NNNNNN.sst</c>
/// (tables), <c>NNNNNN.vlog</c> (value files), <c>MANIFEST-NNNNNN</c>, <c>CURRENT</c> (names the live manifest), <c>LOCK</c>, <c>NNNNNN.dbtmp</c>
/// (temporary files). All numbers come from one counter, so a number names exactly one file.
/// </summary>
internal static class FileNames
{
    public const string Current = "CURRENT";
    public const string Lock = "LOCK";

    public static string Log(string dir, ulong number) => Path.Combine(dir, number.ToString("D6", CultureInfo.InvariantCulture) + ".log");

    public static string Table(string dir, ulong number) => Path.Combine(dir, number.ToString("D6", CultureInfo.InvariantCulture) + ".sst");

    public static string ValueFile(string dir, ulong number) => Path.Combine(dir, number.ToString("D6", CultureInfo.InvariantCulture) + ".vlog");

    public static string Manifest(string dir, ulong number) => Path.Combine(dir, "MANIFEST-" + number.ToString("D6", CultureInfo.InvariantCulture));

    public static string Temp(string dir, ulong number) => Path.Combine(dir, number.ToString("D6", CultureInfo.InvariantCulture) + ".dbtmp");

    public static string ManifestName(ulong number) => "MANIFEST-" + number.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>Parses a file name of this directory; false for names the engine does not own.</summary>
    public static bool TryParse(string name, out FileKind kind, out ulong number)
    {
        kind = FileKind.Unknown;
        number = 0;
        if (name == Current)
        {
            kind = FileKind.Current;
            return true;
        }

        if (name == Lock)
        {
            kind = FileKind.Lock;
            return true;
        }

        if (name.StartsWith("MANIFEST-", StringComparison.Ordinal))
        {
            kind = FileKind.Manifest;
            return ulong.TryParse(name.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out number);
        }

        int dot = name.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !ulong.TryParse(name.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out number))
        {
            return false;
        }

        kind = name.AsSpan(dot) switch
        {
            ".log" => FileKind.Log,
            ".sst" => FileKind.Table,
            ".dbtmp" => FileKind.Temp,
            ".vlog" => FileKind.ValueFile,
            _ => FileKind.Unknown,
        };
        return kind != FileKind.Unknown;
    }
}
