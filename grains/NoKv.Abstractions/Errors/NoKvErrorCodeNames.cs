using System.Text;

namespace NoKv.Abstractions.Errors;

/// <summary>
/// Stable snake_case names of <see cref="NoKvErrorCode"/> values ("ok", "not_leader"), for metric attributes and
/// the HTTP API. Built once from the enum, so a code added later gets a name without touching this file; looking a
/// name up allocates nothing, which matters because it is done per request when metrics are recorded.
/// </summary>
public static class NoKvErrorCodeNames
{
    private static readonly string[] Names = Build();

    /// <summary>The name of <paramref name="code"/>; an undefined value gets "code_N".</summary>
    public static string Of(NoKvErrorCode code)
    {
        int i = (int)code;
        return (uint)i < (uint)Names.Length && Names[i] is { } name ? name : "code_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string[] Build()
    {
        int max = 0;
        foreach (var value in Enum.GetValues<NoKvErrorCode>())
        {
            max = Math.Max(max, (int)value);
        }

        // Codes are small and dense; a value far out of line would waste an array, so it falls back to "code_N".
        var names = new string[Math.Min(max, 1023) + 1];
        foreach (var value in Enum.GetValues<NoKvErrorCode>())
        {
            if ((int)value is >= 0 and < 1024)
            {
                names[(int)value] = SnakeCase(value.ToString());
            }
        }

        return names;
    }

    private static string SnakeCase(string name)
    {
        var text = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0)
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(c));
        }

        return text.ToString();
    }
}
