using System.Text;

namespace NoKv.Raft.Tests.Testing.DataDriven;

/// <summary>
/// Runs a data-driven script file: blocks of one command line, a <c>----</c> line and the expected
/// output, separated by blank lines; lines starting with <c>#</c> are comments. Each command's actual
/// output must equal the expected text. With REWRITE=1 in the environment the file is rewritten with
/// the actual outputs instead (review the diff before committing).
/// </summary>
public static class DataDrivenScript
{
    private const string Separator = "----";

    /// <summary>Runs <paramref name="path"/>; returns the mismatches (empty when all outputs match or after a rewrite).</summary>
    public static IReadOnlyList<string> Run(string path, Func<DataDrivenCommand, string> handle)
    {
        var lines = File.ReadAllLines(path);
        var rewritten = new StringBuilder();
        var failures = new List<string>();
        var i = 0;
        while (i < lines.Length)
        {
            var line = lines[i];
            if (string.IsNullOrWhiteSpace(line) || line.StartsWith('#'))
            {
                rewritten.AppendLine(line);
                i++;
                continue;
            }

            var command = new DataDrivenCommand(line, i + 1);
            rewritten.AppendLine(line);
            i++;
            if (i >= lines.Length || lines[i] != Separator)
            {
                throw new FormatException($"{path}:{command.LineNumber}: expected '{Separator}' after the command");
            }

            rewritten.AppendLine(Separator);
            i++;
            var expected = new List<string>();
            while (i < lines.Length && lines[i].Length > 0)
            {
                expected.Add(lines[i]);
                i++;
            }

            string actual;
            try
            {
                actual = handle(command).TrimEnd('\n', '\r');
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException or SafetyViolationException)
            {
                actual = $"error: {ex.GetType().Name}: {ex.Message}";
            }

            var actualText = actual.Length == 0 ? "ok" : actual;
            rewritten.AppendLine(actualText);
            var expectedText = string.Join('\n', expected);
            if (!string.Equals(expectedText, actualText.ReplaceLineEndings("\n"), StringComparison.Ordinal))
            {
                failures.Add($"{Path.GetFileName(path)}:{command.LineNumber}: {command}\n--- expected\n{expectedText}\n--- actual\n{actualText}");
            }
        }

        if (failures.Count > 0 && Environment.GetEnvironmentVariable("REWRITE") == "1")
        {
            File.WriteAllText(path, rewritten.ToString().TrimEnd() + "\n");
            return [];
        }

        return failures;
    }
}
