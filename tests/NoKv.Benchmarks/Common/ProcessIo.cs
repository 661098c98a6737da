namespace NoKv.Benchmarks.Common;

/// <summary>
/// Bytes this process handed to write(2)-family system calls ("wchar" in /proc/self/io). It is an
/// engine-neutral measure of write amplification: WAL appends, flushes and compactions of every
/// engine pass through write/pwrite (none of the engines here writes through mmap), so dividing the
/// delta by the user payload bytes gives the same kind of figure for all of them. Returns -1 where
/// the counter is not available.
/// </summary>
public static class ProcessIo
{
    private const string IoPath = "/proc/self/io";

    public static long ReadWrittenBytes()
    {
        if (!File.Exists(IoPath))
        {
            return -1;
        }
        foreach (var line in File.ReadLines(IoPath))
        {
            if (line.StartsWith("wchar:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan("wchar:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return -1;
    }
}
