using System.Globalization;

namespace NoKv.Benchmarks.Common;

/// <summary>
/// Peak resident memory of other processes (the local cluster's silos) over one phase of a benchmark: the kernel's
/// high-water mark VmHWM (reset at the start of the phase through /proc/PID/clear_refs, which counts file pages mapped
/// for reading too) and RssAnon (heaps and stacks only) sampled every <see cref="Period"/>. Linux only: elsewhere every
/// figure is -1.
/// </summary>
public sealed class SiloMemorySampler : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    private readonly int[] _pids;
    private readonly long[] _peakAnon;
    private readonly long[] _startAnon;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();

    public SiloMemorySampler(IReadOnlyList<int> pids)
    {
        _pids = [.. pids];
        _peakAnon = new long[_pids.Length];
        _startAnon = new long[_pids.Length];
        Array.Fill(_peakAnon, -1);
        for (int i = 0; i < _pids.Length; i++)
        {
            TryResetPeak(_pids[i]);
            _startAnon[i] = ReadField(_pids[i], "RssAnon:");
        }

        _thread = new Thread(Loop) { IsBackground = true, Name = "silo-memory-sampler" };
        _thread.Start();
    }

    /// <summary>Largest RssAnon sampled per process (bytes; -1 when unreadable), in the order given.</summary>
    public long PeakAnonBytes(int index) => Interlocked.Read(ref _peakAnon[index]);

    /// <summary>RssAnon when the phase started (bytes; -1 when unreadable): the peak's baseline.</summary>
    public long StartAnonBytes(int index) => _startAnon[index];

    /// <summary>VmHWM now (bytes since the reset; -1 when unreadable): read it before the process exits.</summary>
    public long PeakResidentBytes(int index) => ReadField(_pids[index], "VmHWM:");

    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
        _stop.Dispose();
    }

    private void Loop()
    {
        do
        {
            for (int i = 0; i < _pids.Length; i++)
            {
                long anon = ReadField(_pids[i], "RssAnon:");
                if (anon > Interlocked.Read(ref _peakAnon[i]))
                {
                    Interlocked.Exchange(ref _peakAnon[i], anon);
                }
            }
        }
        while (!_stop.Wait(Period));
    }

    private static void TryResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static long ReadField(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var text = line.AsSpan(field.Length).Trim();
                    int space = text.IndexOf(' ');
                    return long.Parse(space >= 0 ? text[..space] : text, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return -1;
    }
}
