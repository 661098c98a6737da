using System.Globalization;

namespace NoKv.Benchmarks.Common;

/// <summary>
/// Peak anonymous resident memory (RssAnon in /proc/self/status: heaps, managed and native, and thread stacks,
/// but not file pages mapped for reading), sampled every <see cref="Period"/> on a background thread. The kernel
/// keeps a high-water mark only for the whole resident set (VmHWM), which counts memory-mapped table pages too:
/// an engine reading through mappings would look larger than one reading through its own cache for memory the
/// kernel can drop at any time. A sample can miss a peak shorter than the period.
/// Linux only; <see cref="PeakBytes"/> stays -1 elsewhere.
/// </summary>
public sealed class AnonymousMemorySampler : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);

    private const string StatusPath = "/proc/self/status";

    private readonly Thread? _thread;
    private readonly ManualResetEventSlim _stop = new();
    private long _peak = -1;

    public AnonymousMemorySampler()
    {
        if (ReadAnonBytes() < 0)
        {
            return;
        }

        _thread = new Thread(Loop) { IsBackground = true, Name = "anon-memory-sampler" };
        _thread.Start();
    }

    /// <summary>
    /// Diagnostic (NOKV_MEM_TRACE=1): what the engine itself holds (its memtables, say), appended to each trace line.
    /// Called on the sampler's thread; may throw (the line then says so).
    /// </summary>
    public Func<string?>? Describe { get; set; }

    /// <summary>Largest RssAnon seen so far in bytes, or -1 when the platform does not report it.</summary>
    public long PeakBytes => Interlocked.Read(ref _peak);

    /// <summary>RssAnon now in bytes, or -1 when the platform does not report it.</summary>
    public static long ReadAnonBytes()
    {
        try
        {
            foreach (string line in File.ReadLines(StatusPath))
            {
                if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                {
                    ReadOnlySpan<char> text = line.AsSpan("RssAnon:".Length).Trim();
                    int space = text.IndexOf(' ');
                    return long.Parse(space >= 0 ? text[..space] : text, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return -1;
    }

    /// <summary>Takes one more sample now (so the figure includes the state at the end of a run).</summary>
    public void Sample()
    {
        long now = ReadAnonBytes();
        long seen = Interlocked.Read(ref _peak);
        while (now > seen)
        {
            long previous = Interlocked.CompareExchange(ref _peak, now, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    public void Dispose()
    {
        _stop.Set();
        _thread?.Join();
        _stop.Dispose();
    }

    private void Loop()
    {
        bool trace = Environment.GetEnvironmentVariable("NOKV_MEM_TRACE") == "1";
        long printed = 0;
        do
        {
            Sample();
            if (trace && PeakBytes > printed + (8 << 20))
            {
                printed = PeakBytes;
                PrintPeak(printed, Describe);
            }
        }
        while (!_stop.Wait(Period));
    }

    /// <summary>Diagnostic (NOKV_MEM_TRACE=1): what the managed heap held when the anonymous peak grew.</summary>
    private static void PrintPeak(long peak, Func<string?>? describe)
    {
        string? engine;
        try
        {
            engine = describe?.Invoke();
        }
        catch (Exception exception)
        {
            engine = "(engine state unavailable: " + exception.GetType().Name + ")";
        }

        GCMemoryInfo info = GC.GetGCMemoryInfo(GCKind.Any);
        var sizes = new System.Text.StringBuilder();
        for (int g = 0; g < info.GenerationInfo.Length; g++)
        {
            sizes.Append(CultureInfo.InvariantCulture, $" g{g}={info.GenerationInfo[g].SizeAfterBytes >> 20}/{info.GenerationInfo[g].FragmentationAfterBytes >> 20}");
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[mem-trace] anon {peak >> 20} MiB, gc committed {info.TotalCommittedBytes >> 20} MiB, heap {info.HeapSizeBytes >> 20} MiB, " +
            $"total-memory {GC.GetTotalMemory(false) >> 20} MiB, sizes-after-last-gc (MiB size/frag){sizes}, gc#{info.Index} gen{info.Generation}{(engine is null ? "" : "; " + engine)}"));
    }
}
