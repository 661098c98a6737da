using System.Globalization;

namespace NoKv.Raft.Tests.Testing.DataDriven;

/// <summary>
/// One command of a data-driven script: a name, positional arguments and key=value arguments, e.g.
/// <c>propose 2 key=a</c> or <c>partition 1,2 3,4,5</c>.
/// </summary>
public sealed class DataDrivenCommand
{
    private readonly Dictionary<string, string> _named = new(StringComparer.Ordinal);

    public DataDrivenCommand(string line, int lineNumber)
    {
        LineNumber = lineNumber;
        Text = line.Trim();
        var parts = Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new FormatException($"line {lineNumber}: empty command");
        }

        Name = parts[0];
        var positional = new List<string>();
        foreach (var part in parts.Skip(1))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                _named[part[..eq]] = part[(eq + 1)..];
            }
            else
            {
                positional.Add(part);
            }
        }

        Positional = positional;
    }

    public string Name { get; }

    public string Text { get; }

    public int LineNumber { get; }

    public IReadOnlyList<string> Positional { get; }

    public ulong Id(int position) => ulong.Parse(Arg(position), CultureInfo.InvariantCulture);

    public string Arg(int position) =>
        position < Positional.Count ? Positional[position] : throw new FormatException($"line {LineNumber}: '{Name}' needs argument {position + 1}");

    /// <summary>A comma-separated list of node ids at <paramref name="position"/>.</summary>
    public ulong[] Ids(int position) =>
        Arg(position).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => ulong.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    public string Named(string key, string fallback) => _named.TryGetValue(key, out var value) ? value : fallback;

    public long Named(string key, long fallback) =>
        _named.TryGetValue(key, out var value) ? long.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public bool Named(string key, bool fallback) =>
        _named.TryGetValue(key, out var value) ? bool.Parse(value) : fallback;

    public override string ToString() => Text;
}
