using System.Diagnostics;

namespace NoKv.Chaos.Cluster;

/// <summary>Runs the system tools the harness needs (ip, nft, mount); a failure throws with the tool's own message.</summary>
public static class Shell
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/>, feeding <paramref name="input"/> to its stdin; returns stdout.</summary>
    public static async Task<string> RunAsync(string file, IEnumerable<string> arguments, string? input = null, bool check = true)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not run {file}");
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', info.ArgumentList)} failed ({process.ExitCode}): {(await stderr).Trim()}");
        }

        return await stdout;
    }

    /// <summary>True if <paramref name="file"/> runs and exits 0 (used to probe for tools and privileges).</summary>
    public static async Task<bool> SucceedsAsync(string file, params string[] arguments)
    {
        try
        {
            await RunAsync(file, arguments);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
