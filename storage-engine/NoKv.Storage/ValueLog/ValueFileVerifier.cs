using NoKv.Storage.Encoding;
using NoKv.Storage.Vfs;

namespace NoKv.Storage.ValueLog;

/// <summary>
/// Reads a whole value file front to back and checks everything in it: header, every record's CRC, the footer's
/// CRC and its totals against the records and against the manifest. Reports damage, never throws for it.
/// </summary>
internal static class ValueFileVerifier
{
    /// <summary>Checks the file; returns the number of values found, and the first problem (offset, text) or null.</summary>
    public static long Verify(IFileSystem fs, string path, ValueFileMeta expected, out (long Offset, string Message)? problem)
    {
        problem = null;
        byte[] data;
        try
        {
            using IRandomAccessFile file = fs.OpenRandomAccess(path);
            data = new byte[file.Length];
            int read = 0;
            while (read < data.Length)
            {
                int n = file.Read(read, data.AsSpan(read));
                if (n <= 0)
                {
                    break;
                }

                read += n;
            }

            data = data[..read];
        }
        catch (FileNotFoundException)
        {
            problem = (0, "live value file is missing");
            return 0;
        }

        if (data.Length != expected.FileSize)
        {
            problem = (0, $"value file is {data.Length} bytes but the manifest records {expected.FileSize}");
            return 0;
        }

        if (data.Length < ValueFileFormat.HeaderSize + ValueFileFormat.FooterSize)
        {
            problem = (0, "value file is shorter than its header and footer");
            return 0;
        }

        Span<byte> header = stackalloc byte[ValueFileFormat.HeaderSize];
        ValueFileFormat.WriteHeader(header);
        if (!data.AsSpan(0, ValueFileFormat.HeaderSize).SequenceEqual(header))
        {
            problem = (0, "bad value file header (magic, version or checksum)");
            return 0;
        }

        int footerAt = data.Length - ValueFileFormat.FooterSize;
        ReadOnlySpan<byte> footer = data.AsSpan(footerAt);
        if (!footer[24..].SequenceEqual(ValueFileFormat.Magic) || Crc32C.Unmask(Fixed.Read32(footer[20..])) != Crc32C.Compute(footer[..20]))
        {
            problem = (footerAt, "bad value file footer (magic or checksum)");
            return 0;
        }

        long entries = 0;
        long valueBytes = 0;
        int pos = ValueFileFormat.HeaderSize;
        while (pos < footerAt)
        {
            ReadOnlySpan<byte> rest = data.AsSpan(pos, footerAt - pos);
            int a = Varint.TryRead32(rest, out uint keyLength);
            uint valueLength = 0;
            int b = a > 0 ? Varint.TryRead32(rest[a..], out valueLength) : 0;
            long length = (long)a + b + keyLength + valueLength + 4;
            if (a <= 0 || b <= 0 || length > rest.Length)
            {
                problem = (pos, "value record runs past the footer");
                return entries;
            }

            int body = (int)length - 4;
            if (Crc32C.Unmask(Fixed.Read32(rest[body..])) != Crc32C.Compute(rest[..body]))
            {
                problem = (pos, "value record checksum mismatch");
                return entries;
            }

            entries++;
            valueBytes += valueLength;
            pos += (int)length;
        }

        if ((long)Fixed.Read64(footer) != entries || (long)Fixed.Read64(footer[8..]) != valueBytes)
        {
            problem = (footerAt, $"footer counts {Fixed.Read64(footer)} values / {Fixed.Read64(footer[8..])} bytes, the records {entries} / {valueBytes}");
        }
        else if (entries != expected.EntryCount || valueBytes != expected.ValueBytes)
        {
            problem = (footerAt, $"manifest records {expected.EntryCount} values / {expected.ValueBytes} bytes, the file holds {entries} / {valueBytes}");
        }

        return entries;
    }
}
