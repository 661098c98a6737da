using System.Diagnostics;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace NoKv.Storage.Db;

/// <summary>
/// Diagnostic: where a synchronous write's time goes (queued behind another group, its own group's stages, the
/// wait for its wake-up), as histograms printed to stderr when the database closes. On only with the environment
/// variable NOKV_WRITE_TRACE=1 (read once per process); off, every hook is a test of a static readonly false that
/// the JIT removes. Thread-safe (interlocked counters).
/// </summary>
internal static class WriteTrace
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("NOKV_WRITE_TRACE") == "1";

    private static readonly string[] Names =
    [
        "total(leader)", "total(follower)", "total(promoted)",
        "queued", "own-group", "after-group(leader)", "after-group(follower)",
        "grp:makeroom", "grp:wal", "grp:memtable", "grp:wake-call", "grp:size",
    ];

    private const int TotalLeader = 0, TotalFollower = 1, TotalPromoted = 2, Queued = 3, OwnGroup = 4,
        AfterLeader = 5, AfterFollower = 6;

    public const int GroupMakeRoom = 7, GroupWal = 8, GroupMemtable = 9, GroupWakeCall = 10, GroupSize = 11;

    // Log-linear buckets of nanoseconds: 16 sub-buckets per power of two.
    private const int SubBits = 4;
    private static readonly long[][] Buckets = CreateBuckets();

    // Tail attribution: per band of total latency, the sums of each component (ns) and the count.
    private static readonly long[] BandLimitsUs = [50, 100, 200, 500, long.MaxValue];
    private static readonly string[] ComponentNames = ["queued", "makeroom", "wal", "memtable", "after"];
    private static readonly long[,] BandSums = new long[BandLimitsUs.Length, ComponentNames.Length + 1];

    // Slow-write attribution: every write of at least SlowWriteMicros, up to MaxSlowWrites of them, with what its
    // thread waited for a core (run-queue wait, /proc/thread-self/schedstat), what the collector paused meanwhile, and
    // what the thread that led its group waited for a core during the group.
    private const long SlowWriteMicros = 500;
    private const int MaxSlowWrites = 512;
    private static readonly Lock SlowLock = new();
    private static readonly List<SlowWrite> SlowWrites = [];

    [ThreadStatic]
    private static SafeFileHandle? t_schedstat;

    [ThreadStatic]
    private static byte[]? t_schedstatBuffer;

    private readonly record struct SlowWrite(string Role, long Total, long Queued, long Wal, long Memtable, long After,
        long OwnRunDelay, long LeaderRunDelay, long GcPause, long At);

    // The first traced write's timestamp: slow writes are printed with their time since it (a cluster at the start of a
    // run points at warm-up: JIT compilation, cold caches).
    private static long s_firstWrite;

    private static long[][] CreateBuckets()
    {
        var b = new long[Names.Length][];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = new long[64 << SubBits];
        }

        return b;
    }

    public static void Record(int histogram, long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        Interlocked.Increment(ref Buckets[histogram][BucketOf(value)]);
    }

    public static long Ns(long fromTimestamp, long toTimestamp) =>
        (long)((toTimestamp - fromTimestamp) * (1e9 / Stopwatch.Frequency));

    /// <summary>
    /// Nanoseconds the calling thread has spent runnable but waiting for a core (the second field of
    /// /proc/thread-self/schedstat); 0 where that is not available. Opens the file once per thread.
    /// </summary>
    public static long ThreadRunDelayNs()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        try
        {
            t_schedstat ??= File.OpenHandle("/proc/thread-self/schedstat");
            byte[] buffer = t_schedstatBuffer ??= new byte[96];
            int n = RandomAccess.Read(t_schedstat, buffer, 0);
            int i = 0;
            while (i < n && buffer[i] != (byte)' ')
            {
                i++;
            }

            long value = 0;
            for (i++; i < n && buffer[i] >= (byte)'0' && buffer[i] <= (byte)'9'; i++)
            {
                value = (value * 10) + (buffer[i] - '0');
            }

            return value;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>The collector's total pause time so far, in ns.</summary>
    public static long GcPauseNs() => GC.GetTotalPauseDuration().Ticks * 100;

    /// <summary>Stamps a request as it is queued (owner thread).</summary>
    public static void OnEnqueue(WriteRequest r)
    {
        r.TraceRunDelayAtEnqueue = ThreadRunDelayNs();
        r.TraceGcPauseAtEnqueue = GcPauseNs();
        r.TraceGroupLeaderRunDelay = 0;
        r.TraceEnqueued = Stopwatch.GetTimestamp();
        if (Volatile.Read(ref s_firstWrite) == 0)
        {
            Interlocked.CompareExchange(ref s_firstWrite, r.TraceEnqueued, 0);
        }
    }

    /// <summary>Records one finished synchronous write (on its own thread, after it returned from the group).</summary>
    public static void RecordWrite(WriteRequest r, bool led, bool promoted, long now)
    {
        long total = Ns(r.TraceEnqueued, now);
        if (total >= SlowWriteMicros * 1000)
        {
            var slow = new SlowWrite(promoted ? "promoted" : led ? "leader" : "follower", total,
                Ns(r.TraceEnqueued, r.TraceGroupStart), r.TraceWal, r.TraceMemtable, Ns(r.TraceGroupEnd, now),
                ThreadRunDelayNs() - r.TraceRunDelayAtEnqueue, r.TraceGroupLeaderRunDelay, GcPauseNs() - r.TraceGcPauseAtEnqueue,
                Ns(Volatile.Read(ref s_firstWrite), r.TraceEnqueued));
            lock (SlowLock)
            {
                if (SlowWrites.Count < MaxSlowWrites)
                {
                    SlowWrites.Add(slow);
                }
            }
        }

        long queued = Ns(r.TraceEnqueued, r.TraceGroupStart);
        long own = Ns(r.TraceGroupStart, r.TraceGroupEnd);
        long after = Ns(r.TraceGroupEnd, now);
        Record(promoted ? TotalPromoted : led ? TotalLeader : TotalFollower, total);
        Record(Queued, queued);
        Record(OwnGroup, own);
        Record(led ? AfterLeader : AfterFollower, after);
        int band = 0;
        while (total / 1000 >= BandLimitsUs[band])
        {
            band++;
        }

        Interlocked.Add(ref BandSums[band, 0], queued);
        Interlocked.Add(ref BandSums[band, 1], r.TraceMakeRoom);
        Interlocked.Add(ref BandSums[band, 2], r.TraceWal);
        Interlocked.Add(ref BandSums[band, 3], r.TraceMemtable);
        Interlocked.Add(ref BandSums[band, 4], after);
        Interlocked.Increment(ref BandSums[band, ComponentNames.Length]);
    }

    /// <summary>Prints the histograms to stderr (once per database close).</summary>
    public static void Print()
    {
        var sb = new StringBuilder();
        sb.AppendLine("[write-trace] stage                      count      p50 us     p99 us    p999 us     max us    mean us");
        for (int h = 0; h < Names.Length; h++)
        {
            long[] b = Buckets[h];
            long count = 0;
            double sum = 0;
            for (int i = 0; i < b.Length; i++)
            {
                count += b[i];
                sum += b[i] * (double)LowerBound(i);
            }

            if (count == 0)
            {
                continue;
            }

            double scale = h == GroupSize ? 1 : 1e-3;
            sb.Append("[write-trace] ").Append(Names[h].PadRight(24))
              .Append(count.ToString("N0").PadLeft(9))
              .Append((Percentile(b, count, 0.50) * scale).ToString("F1").PadLeft(11))
              .Append((Percentile(b, count, 0.99) * scale).ToString("F1").PadLeft(11))
              .Append((Percentile(b, count, 0.999) * scale).ToString("F1").PadLeft(11))
              .Append((Percentile(b, count, 1.0) * scale).ToString("F1").PadLeft(11))
              .Append((sum / count * scale).ToString("F1").PadLeft(11))
              .AppendLine();
        }

        sb.AppendLine("[write-trace] band (total us)    count   mean us of: " + string.Join(" / ", ComponentNames));
        for (int band = 0; band < BandLimitsUs.Length; band++)
        {
            long n = BandSums[band, ComponentNames.Length];
            if (n == 0)
            {
                continue;
            }

            string low = band == 0 ? "0" : BandLimitsUs[band - 1].ToString();
            string high = BandLimitsUs[band] == long.MaxValue ? "inf" : BandLimitsUs[band].ToString();
            sb.Append("[write-trace] ").Append($"[{low},{high})".PadLeft(15)).Append(n.ToString("N0").PadLeft(10)).Append("   ");
            for (int c = 0; c < ComponentNames.Length; c++)
            {
                sb.Append((BandSums[band, c] / (double)n / 1000).ToString("F1")).Append(c + 1 < ComponentNames.Length ? " / " : "");
            }

            sb.AppendLine();
        }

        AppendSlowWrites(sb);
        Console.Error.Write(sb.ToString());
    }

    private static void AppendSlowWrites(StringBuilder sb)
    {
        SlowWrite[] slow;
        lock (SlowLock)
        {
            slow = [.. SlowWrites];
        }

        if (slow.Length == 0)
        {
            return;
        }

        Array.Sort(slow, (a, b) => b.Total.CompareTo(a.Total));
        int withGc = 0, ownWaitMost = 0, leaderWaitMost = 0;
        var perSecond = new SortedDictionary<long, int>();
        foreach (SlowWrite w in slow)
        {
            long second = w.At / 1_000_000_000;
            perSecond[second] = perSecond.GetValueOrDefault(second) + 1;
            withGc += w.GcPause > 0 ? 1 : 0;
            ownWaitMost += w.OwnRunDelay * 2 >= w.Total ? 1 : 0;
            leaderWaitMost += w.LeaderRunDelay * 2 >= w.Total ? 1 : 0;
        }

        sb.Append("[write-trace] writes >= ").Append(SlowWriteMicros).Append(" us: ").Append(slow.Length)
          .Append(slow.Length == MaxSlowWrites ? " (first kept)" : "").Append(", a collector pause during ").Append(withGc)
          .Append(", own thread waiting for a core >= half of it ").Append(ownWaitMost)
          .Append(", its group's leader waiting for a core >= half of it ").Append(leaderWaitMost).AppendLine();
        sb.Append("[write-trace] of them, per second since the first write:");
        foreach (KeyValuePair<long, int> kv in perSecond)
        {
            sb.Append(' ').Append(kv.Key).Append("s:").Append(kv.Value);
        }

        sb.AppendLine();
        sb.AppendLine("[write-trace] slowest (us): role      total   queued      wal  memtable    after  own-runq  leader-runq  gc-pause     at ms");
        for (int i = 0; i < Math.Min(slow.Length, 40); i++)
        {
            SlowWrite w = slow[i];
            sb.Append("[write-trace] ").Append(w.Role.PadLeft(18))
              .Append(Us(w.Total)).Append(Us(w.Queued)).Append(Us(w.Wal)).Append(Us(w.Memtable)).Append(Us(w.After))
              .Append(Us(w.OwnRunDelay)).Append(Us(w.LeaderRunDelay)).Append(Us(w.GcPause))
              .Append((w.At / 1e6).ToString("F0").PadLeft(10)).AppendLine();
        }
    }

    private static string Us(long ns) => (ns / 1000.0).ToString("F0").PadLeft(9);

    private static int BucketOf(long value)
    {
        if (value < (1 << SubBits))
        {
            return (int)value;
        }

        int log = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)value);
        int sub = (int)(value >> (log - SubBits)) & ((1 << SubBits) - 1);
        return ((log - SubBits + 1) << SubBits) + sub;
    }

    private static long LowerBound(int bucket)
    {
        if (bucket < (1 << SubBits))
        {
            return bucket;
        }

        int log = (bucket >> SubBits) + SubBits - 1;
        int sub = bucket & ((1 << SubBits) - 1);
        return (1L << log) + ((long)sub << (log - SubBits));
    }

    private static long Percentile(long[] b, long count, double q)
    {
        long target = (long)Math.Ceiling(count * q);
        long seen = 0;
        for (int i = 0; i < b.Length; i++)
        {
            seen += b[i];
            if (seen >= target && b[i] > 0)
            {
                return LowerBound(i);
            }
        }

        return 0;
    }
}
