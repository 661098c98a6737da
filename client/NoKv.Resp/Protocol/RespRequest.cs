using System.Buffers;

namespace NoKv.Resp.Protocol;

/// <summary>
/// One parsed command: its arguments copied into a reusable arena, so parsing allocates nothing once the arena
/// is large enough. Arguments stay valid until the next <see cref="Reset"/> (the next parse on the same
/// connection); anything kept longer (a command queued by MULTI) is copied out with <see cref="ToOwned"/>.
/// Not thread-safe: one per connection.
/// </summary>
internal sealed class RespRequest
{
    private byte[] _arena;
    private int _used;
    private (int Offset, int Length)[] _args;

    public RespRequest(int initialArenaBytes = 4096, int initialArgs = 16)
    {
        _arena = new byte[initialArenaBytes];
        _args = new (int, int)[initialArgs];
    }

    /// <summary>A request over already-owned arguments (queued commands, tests).</summary>
    public RespRequest(IReadOnlyList<byte[]> args)
        : this(Math.Max(16, SumLengths(args)), Math.Max(1, args.Count))
    {
        foreach (var arg in args)
        {
            Add(arg);
        }
    }

    public int Count { get; private set; }

    public ReadOnlySpan<byte> this[int index] => Span(index);

    public ReadOnlySpan<byte> Span(int index)
    {
        var (offset, length) = Arg(index);
        return _arena.AsSpan(offset, length);
    }

    /// <summary>The argument as memory over the arena; valid until the next reset.</summary>
    public ReadOnlyMemory<byte> Memory(int index)
    {
        var (offset, length) = Arg(index);
        return _arena.AsMemory(offset, length);
    }

    public byte[] ToArray(int index) => Span(index).ToArray();

    /// <summary>The arguments as owned arrays, independent of this arena.</summary>
    public byte[][] ToOwned()
    {
        var owned = new byte[Count][];
        for (int i = 0; i < Count; i++)
        {
            owned[i] = ToArray(i);
        }

        return owned;
    }

    public void Reset()
    {
        _used = 0;
        Count = 0;
    }

    /// <summary>Appends an argument of <paramref name="length"/> bytes and returns the span to fill.</summary>
    public Span<byte> Append(int length)
    {
        if (_used + length > _arena.Length)
        {
            Array.Resize(ref _arena, Math.Max(_used + length, _arena.Length * 2));
        }

        if (Count == _args.Length)
        {
            Array.Resize(ref _args, _args.Length * 2);
        }

        _args[Count++] = (_used, length);
        var span = _arena.AsSpan(_used, length);
        _used += length;
        return span;
    }

    public void Add(ReadOnlySpan<byte> arg) => arg.CopyTo(Append(arg.Length));

    public void Add(in ReadOnlySequence<byte> arg) => arg.CopyTo(Append(checked((int)arg.Length)));

    /// <summary>Whether argument <paramref name="index"/> equals the ASCII word <paramref name="upper"/>, ignoring case.</summary>
    public bool Is(int index, ReadOnlySpan<byte> upper) => RespAscii.EqualsIgnoreCase(Span(index), upper);

    private (int Offset, int Length) Arg(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the request has {Count} argument(s)");
        }

        return _args[index];
    }

    private static int SumLengths(IReadOnlyList<byte[]> args)
    {
        int total = 0;
        foreach (var arg in args)
        {
            total += arg.Length;
        }

        return total;
    }
}
