using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using NoKv.Storage.Encoding;
using NoKv.Storage.Vfs;

namespace NoKv.Silo.Membership;

/// <summary>
/// Reads and writes one cluster's table file. Format (version 1, docs/cluster.md "Membership"):
/// <code>
/// file   := header '\n' body
/// header := "NOKV-MEMBERSHIP" ' ' format-version ' ' body-length ' ' masked-crc32c-of-body (8 hex digits)
/// body   := UTF-8 JSON of StoredMembershipTable
/// </code>
/// A file is only ever replaced whole (write a temporary file, fsync it, rename it over the table, fsync the
/// directory), so a reader sees the old table or the new one; the length and checksum catch anything else
/// (a file system that lost part of a rename, a hand edit) and turn it into <see cref="MembershipTableCorruptException"/>.
/// Not thread-safe for writers: callers hold <see cref="MembershipFileLock"/> around read-modify-write.
/// </summary>
public static class MembershipTableFile
{
    public const string Magic = "NOKV-MEMBERSHIP";

    /// <summary>The only format version written; a reader refuses others rather than guess.</summary>
    public const int FormatVersion = 1;

    private const int MaxHeaderBytes = 128;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The table in <paramref name="path"/>, or null if there is no such file.</summary>
    /// <exception cref="MembershipTableCorruptException">The file exists but does not hold a valid table.</exception>
    public static StoredMembershipTable? Read(string path)
    {
        byte[] bytes;
        try
        {
            // Delete sharing lets a writer rename over the file while it is open here (Windows); on Unix the
            // open handle keeps reading the old inode, which is the snapshot this read wants.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        return Decode(path, bytes);
    }

    /// <summary>Replaces the table file atomically and durably.</summary>
    public static void Write(string path, StoredMembershipTable table)
    {
        string directory = Path.GetDirectoryName(path)!;
        string temporary = path + ".tmp";
        byte[] bytes = Encode(table);
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        PhysicalFileSystem.Instance.SyncDirectory(directory);
    }

    /// <summary>Removes the table file durably; a missing file is not an error.</summary>
    public static void Delete(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
            PhysicalFileSystem.Instance.SyncDirectory(Path.GetDirectoryName(path)!);
        }
    }

    public static byte[] Encode(StoredMembershipTable table)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(table, Json);
        uint crc = Crc32C.Mask(Crc32C.Compute(body));
        byte[] header = Encoding.ASCII.GetBytes($"{Magic} {FormatVersion} {body.Length} {crc:x8}\n");
        byte[] file = new byte[header.Length + body.Length];
        header.CopyTo(file, 0);
        body.CopyTo(file, header.Length);
        return file;
    }

    public static StoredMembershipTable Decode(string path, ReadOnlySpan<byte> file)
    {
        if (file.IsEmpty)
        {
            throw new MembershipTableCorruptException(path, "the file is empty");
        }

        int newline = file[..Math.Min(file.Length, MaxHeaderBytes)].IndexOf((byte)'\n');
        if (newline < 0)
        {
            throw new MembershipTableCorruptException(path, "no header line");
        }

        string[] header = Encoding.ASCII.GetString(file[..newline]).Split(' ');
        if (header.Length != 4 || header[0] != Magic)
        {
            throw new MembershipTableCorruptException(path, $"bad header, expected '{Magic} <version> <length> <crc>'");
        }

        if (!int.TryParse(header[1], NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version != FormatVersion)
        {
            throw new MembershipTableCorruptException(path, $"unsupported format version '{header[1]}' (this build reads {FormatVersion})");
        }

        var body = file[(newline + 1)..];
        if (!int.TryParse(header[2], NumberStyles.None, CultureInfo.InvariantCulture, out int length) || length != body.Length)
        {
            throw new MembershipTableCorruptException(path, $"body is {body.Length} bytes, header says {header[2]} (torn write)");
        }

        if (!uint.TryParse(header[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint crc) || Crc32C.Mask(Crc32C.Compute(body)) != crc)
        {
            throw new MembershipTableCorruptException(path, "checksum mismatch");
        }

        StoredMembershipTable? table;
        try
        {
            table = JsonSerializer.Deserialize<StoredMembershipTable>(body, Json);
        }
        catch (JsonException e)
        {
            throw new MembershipTableCorruptException(path, $"body does not decode: {e.Message}", e);
        }

        if (table is null || table.Rows is null || string.IsNullOrEmpty(table.VersionEtag))
        {
            throw new MembershipTableCorruptException(path, "body has no table version or rows");
        }

        return table;
    }
}
