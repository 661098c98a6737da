using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.Resp.Tests.Infrastructure;

/// <summary>
/// Runs Debian's redis-tools (redis-cli, redis-benchmark). .ci/run installs them; a missing tool fails the test
/// with the install command, unless NOKV_SKIP_REDIS_TOOLS=1 says the install was impossible (then the test only
/// prints why it did nothing).
/// </summary>
internal static class RedisTools
{
    public static string? Find(string tool, ITestOutputHelper output)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path))
            {
                return path;
            }
        }

        if (Environment.GetEnvironmentVariable("NOKV_SKIP_REDIS_TOOLS") == "1")
        {
            output.WriteLine($"SKIPPED: {tool} is not installed and NOKV_SKIP_REDIS_TOOLS=1 (.ci/run could not install redis-tools).");
            return null;
        }

        Assert.Fail($"{tool} is not on PATH: install it with `apt-get install -y redis-tools` (.ci/run does), or set NOKV_SKIP_REDIS_TOOLS=1 to skip.");
        return null;
    }

    /// <summary>Runs the tool to completion (at most <paramref name="timeout"/>) with optional standard input; returns exit code and output.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string path, IEnumerable<string> arguments, string? stdin = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(path)} {string.Join(' ', arguments)} did not finish in time; output so far: {await stdout}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
