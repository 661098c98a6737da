namespace NoKv.Abstractions.Security;

/// <summary>
/// The keys a silo accepts (or a client chooses from). Written as text, one key per entry, entries separated by new
/// lines or ';', each <c>id:secret</c>; blank entries and lines starting with '#' are skipped:
/// <code>
/// # /etc/nokv/auth.keys
/// k2026a:8kq1...base64...
/// </code>
/// The first key is <see cref="Primary"/>: the one a silo signs its own calls with and a client presents. Rotation:
/// add the new key second on every silo, then first on every client and silo, then drop the old one (docs/security.md).
/// Parse errors name the source and the entry number, never a secret.
/// </summary>
public sealed class NoKvKeyRing
{
    private readonly Dictionary<string, NoKvKey> _byId;

    public NoKvKeyRing(IReadOnlyList<NoKvKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            throw new ArgumentException("A key ring needs at least one key.", nameof(keys));
        }

        _byId = new Dictionary<string, NoKvKey>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!_byId.TryAdd(key.Id, key))
            {
                throw new ArgumentException($"Key id '{key.Id}' appears twice.", nameof(keys));
            }
        }

        Keys = keys.ToArray();
        Primary = Keys[0];
    }

    /// <summary>The first key: what this process signs with.</summary>
    public NoKvKey Primary { get; }

    public IReadOnlyList<NoKvKey> Keys { get; }

    public bool TryGet(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NoKvKey? key) => _byId.TryGetValue(id, out key);

    /// <summary>Parses key text (see the type's summary).</summary>
    /// <param name="source">Where the text came from, for error messages (a file path, an environment variable's name).</param>
    /// <exception cref="FormatException">No key, a malformed entry, a bad id, a short secret or a repeated id; the message names <paramref name="source"/> and the entry, never a secret.</exception>
    public static NoKvKeyRing Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var keys = new List<NoKvKey>();
        var entries = text.Split(['\n', ';']);
        for (int i = 0; i < entries.Length; i++)
        {
            string entry = entries[i].Trim();
            if (entry.Length == 0 || entry[0] == '#')
            {
                continue;
            }

            int colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                throw new FormatException($"{source}: entry {i + 1} is not 'id:secret'.");
            }

            string id = entry[..colon].Trim();
            string secret = entry[(colon + 1)..].Trim();
            try
            {
                var key = new NoKvKey(id, secret);
                if (keys.Exists(k => k.Id == key.Id))
                {
                    throw new FormatException($"{source}: key id '{id}' appears twice.");
                }

                keys.Add(key);
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"{source}: entry {i + 1}: {e.Message.Split(" (Parameter", 2)[0]}");
            }
        }

        if (keys.Count == 0)
        {
            throw new FormatException($"{source}: no key (expected lines of 'id:secret').");
        }

        return new NoKvKeyRing(keys);
    }

    /// <summary>Reads and parses a key file.</summary>
    /// <exception cref="FormatException">The file's content is not a key ring.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The process may not read the file.</exception>
    public static NoKvKeyRing Load(string path) => Parse(File.ReadAllText(path), path);
}
