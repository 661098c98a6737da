using System.Diagnostics;

namespace NoKv.Benchmarks.Common;

/// <summary>
/// Peak resident memory of this process. On Linux the kernel keeps the high-water mark (VmHWM in
/// /proc/self/status) and lets a process reset it by writing "5" to /proc/self/clear_refs, which
/// gives a peak per benchmark phase. Elsewhere it falls back to <see cref="Process.PeakWorkingSet64"/>
/// (a whole-process peak that cannot be reset).
/// </summary>
public static class ProcessMemory
{
    private const string StatusPath = "/proc/self/status";
    private const string ClearRefsPath = "/proc/self/clear_refs";

    /// <summary>Starts a new peak measurement window; returns false if the platform cannot reset it.</summary>
    public static bool TryResetPeak()
    {
        try
        {
            if (!File.Exists(ClearRefsPath))
            {
                return false;
            }
            File.WriteAllText(ClearRefsPath, "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Peak resident set in bytes since process start or the last successful reset.</summary>
    public static long ReadPeakBytes()
    {
        if (File.Exists(StatusPath))
        {
            foreach (var line in File.ReadLines(StatusPath))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return ParseKiloBytes(line.AsSpan("VmHWM:".Length));
                }
            }
        }
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    private static long ParseKiloBytes(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        var space = text.IndexOf(' ');
        if (space >= 0)
        {
            text = text[..space];
        }
        return long.Parse(text, System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
