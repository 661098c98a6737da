using System.Diagnostics;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The simulation's random source, which can also write down every draw with the virtual time and who drew it: two
/// runs of one seed that should replay the same history are compared draw by draw, and the first difference names
/// the code whose order depended on something other than the seed.
/// </summary>
internal sealed class RecordingRandom : Random
{
    private readonly Func<long> _now;

    public RecordingRandom(int seed, Func<long> now)
        : base(seed)
    {
        _now = now;
    }

    /// <summary>Every draw so far, when <see cref="Recording"/> is on.</summary>
    public List<string> Draws { get; } = new();

    /// <summary>Who drew each of <see cref="Draws"/> (kept apart: inlining differs between JIT tiers, so stacks of one
    /// draw can differ between two runs that drew the same).</summary>
    public List<string> Callers { get; } = new();

    public bool Recording { get; set; }

    public override int Next() => Record(base.Next());

    public override int Next(int maxValue) => Record(base.Next(maxValue));

    public override int Next(int minValue, int maxValue) => Record(base.Next(minValue, maxValue));

    public override double NextDouble() => Record(base.NextDouble());

    public override long NextInt64() => Record(base.NextInt64());

    public override long NextInt64(long maxValue) => Record(base.NextInt64(maxValue));

    public override long NextInt64(long minValue, long maxValue) => Record(base.NextInt64(minValue, maxValue));

    public override void NextBytes(byte[] buffer)
    {
        base.NextBytes(buffer);
        Record(buffer.Length);
    }

    public override void NextBytes(Span<byte> buffer)
    {
        base.NextBytes(buffer);
        Record(buffer.Length);
    }

    /// <summary>Writes down a step that drew nothing (an event run, a continuation resumed), to place the draws.</summary>
    public void Note(string what)
    {
        if (Recording)
        {
            Draws.Add($"t={_now()} {what}");
            Callers.Add("");
        }
    }

    private T Record<T>(T value)
    {
        if (Recording)
        {
            Draws.Add($"t={_now()} {value}");
            Callers.Add(Caller());
        }

        return value;
    }

    /// <summary>The first frames outside this type, async state machines named for their methods.</summary>
    private static string Caller()
    {
        var frames = new StackTrace(1, false).GetFrames().Where(f => f.GetMethod()?.DeclaringType != typeof(RecordingRandom));
        return string.Join(" < ", frames.Take(8).Select(f => f.GetMethod() is { } m ? $"{m.DeclaringType?.Name}.{m.Name}" : "?"));
    }
}
