using System.Text;

namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// Records what happened in a run, one line per event, stamped with virtual time: every message sent,
/// delivered and dropped (and why), every tick batch, crash, restart, partition change, proposal, apply
/// and check. On failure the trace is printed with the seed; re-running the seed replays it exactly.
/// </summary>
/// <remarks>
/// Keeps the last <see cref="Capacity"/> lines in a ring so a long soak does not grow without bound;
/// a failure normally lies within the tail. Set NOKV_RAFT_SIM_TRACE=full to keep every line.
/// </remarks>
public sealed class TraceRecorder
{
    private readonly EventScheduler _scheduler;
    private readonly string[] _ring;
    private readonly List<string>? _all;
    private long _count;

    public TraceRecorder(EventScheduler scheduler, int capacity = 20_000)
    {
        _scheduler = scheduler;
        _ring = new string[capacity];
        if (string.Equals(Environment.GetEnvironmentVariable("NOKV_RAFT_SIM_TRACE"), "full", StringComparison.OrdinalIgnoreCase))
        {
            _all = [];
        }
    }

    public int Capacity => _ring.Length;

    public long Count => _count;

    /// <summary>When false, <see cref="Record(string)"/> is skipped by callers that build costly lines.</summary>
    public bool Enabled { get; set; } = true;

    public void Record(string line)
    {
        if (!Enabled)
        {
            return;
        }

        var stamped = $"{_scheduler.Now,8} {line}";
        _ring[_count % _ring.Length] = stamped;
        _all?.Add(stamped);
        _count++;
    }

    /// <summary>The retained lines, oldest first.</summary>
    public IEnumerable<string> Lines()
    {
        if (_all is not null)
        {
            foreach (var line in _all)
            {
                yield return line;
            }

            yield break;
        }

        var start = Math.Max(0, _count - _ring.Length);
        for (var i = start; i < _count; i++)
        {
            yield return _ring[i % _ring.Length];
        }
    }

    /// <summary>The last <paramref name="lines"/> retained lines joined for an exception message.</summary>
    public string Tail(int lines)
    {
        var builder = new StringBuilder();
        var retained = _all?.Count ?? (int)Math.Min(_count, _ring.Length);
        foreach (var line in Lines().Skip(Math.Max(0, retained - lines)))
        {
            builder.AppendLine(line);
        }

        return builder.ToString();
    }

    /// <summary>Writes every retained line to <paramref name="path"/>, creating its folder.</summary>
    public void WriteTo(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllLines(path, Lines());
    }
}
