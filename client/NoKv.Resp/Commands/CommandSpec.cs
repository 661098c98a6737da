using NoKv.Resp.Protocol;

namespace NoKv.Resp.Commands;

/// <summary>
/// One command: its name, arity and key positions in Redis's conventions (arity N = exactly N arguments with
/// the name, -N = at least N; keys from <see cref="FirstKey"/> to <see cref="LastKey"/>, negative counting from
/// the end, every <see cref="Step"/>), and either a handler or a key transition. Immutable.
/// </summary>
internal sealed class CommandSpec
{
    public required string Name { get; init; }

    public required int Arity { get; init; }

    public CommandFlags Flags { get; init; }

    public int FirstKey { get; init; }

    public int LastKey { get; init; }

    public int Step { get; init; }

    public CommandHandler? Handler { get; init; }

    public KeyTransition? Transition { get; init; }

    /// <summary>Whether the transition needs its keys' current values; null = always. A blind write skips the read.</summary>
    public Func<RespRequest, bool>? ReadsKeys { get; init; }

    public MultiKeyReply MultiKey { get; init; }

    public bool ArityMatches(int count) => Arity >= 0 ? count == Arity : count >= -Arity;

    public bool NeedsRead(RespRequest args) => ReadsKeys?.Invoke(args) ?? true;

    /// <summary>Indexes of the key arguments of <paramref name="args"/>.</summary>
    public int KeyCount(RespRequest args)
    {
        if (FirstKey == 0)
        {
            return 0;
        }

        int last = LastKey < 0 ? args.Count + LastKey : LastKey;
        return last < FirstKey ? 0 : ((last - FirstKey) / Step) + 1;
    }

    public int KeyIndex(int n) => FirstKey + (n * Step);
}
