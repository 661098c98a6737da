using System.Diagnostics;
using Xunit;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>Runs the `nokv` CLI (client/NoKv.Cli's Release build, as deploy/nokv does) as a process.</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Binary());
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>client/NoKv.Cli/bin/&lt;Configuration&gt;/&lt;tfm&gt;/nokv.dll, built alongside this test project.</summary>
    public static string Binary()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = dir.Name, configuration = dir.Parent!.Name;
        var repo = dir.Parent!.Parent!.Parent!.Parent!.Parent!;
        string path = Path.Combine(repo.FullName, "client", "NoKv.Cli", "bin", configuration, tfm, "nokv.dll");
        Assert.True(File.Exists(path), $"CLI binary not found at {path}");
        return path;
    }

    /// <summary>The repository root (for deploy/ files).</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        return dir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
    }
}
