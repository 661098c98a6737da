using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// One NoKv.Silo executable run as a child process, as deploy/local-cluster.sh runs it. Keeps the last lines of
/// its console (for a failure message) and echoes warnings, errors and stderr to the test output.
/// </summary>
public sealed class SiloProcess : IDisposable
{
    private const int KeptLines = 200;

    private static readonly Regex TimestampedLine = new(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trce|dbug|info|warn|fail|crit): ", RegexOptions.Compiled);

    private readonly Process _process;
    private readonly Queue<string> _lines = new();

    private SiloProcess(Process process, int store)
    {
        _process = process;
        Store = store;
    }

    public int Store { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code; only valid once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    private readonly List<string> _untimestamped = new();
    private readonly List<string> _stackTraces = new();

    /// <summary>Console lines so far without the UTC timestamp and level every silo log line must start with.</summary>
    public IReadOnlyList<string> UntimestampedLines()
    {
        lock (_lines)
        {
            return _untimestamped.ToList();
        }
    }

    /// <summary>Console lines so far carrying a stack frame (the single-line format puts a trace's frames on the entry's line).</summary>
    public IReadOnlyList<string> StackTraceLines()
    {
        lock (_lines)
        {
            return _stackTraces.ToList();
        }
    }

    /// <summary>Starts <c>dotnet NoKv.Silo.dll</c> with <paramref name="arguments"/>.</summary>
    public static SiloProcess Start(int store, IEnumerable<string> arguments, ITestOutputHelper output)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Binary());
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_gcServer"] = "0";
        var silo = new SiloProcess(Process.Start(info)!, store);
        silo._process.OutputDataReceived += (_, e) => silo.Keep(e.Data, output, stderr: false);
        silo._process.ErrorDataReceived += (_, e) => silo.Keep(e.Data, output, stderr: true);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>SIGKILL, then waits for the process to be gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM (the clean shutdown systemd and the local cluster script ask for), then waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    /// <summary>Waits for the process to exit on its own; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    /// <summary>The last console lines, oldest first.</summary>
    public string RecentLog()
    {
        lock (_lines)
        {
            return string.Join(Environment.NewLine, _lines);
        }
    }

    /// <summary>silo/NoKv.Silo/bin/&lt;Configuration&gt;/&lt;tfm&gt;/NoKv.Silo.dll, built alongside this test project.</summary>
    public static string Binary()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = dir.Name, configuration = dir.Parent!.Name;
        var repo = dir.Parent!.Parent!.Parent!.Parent!.Parent!;
        string path = Path.Combine(repo.FullName, "silo", "NoKv.Silo", "bin", configuration, tfm, "NoKv.Silo.dll");
        Assert.True(File.Exists(path), $"silo binary not found at {path}");
        return path;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    private void Keep(string? line, ITestOutputHelper output, bool stderr)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Enqueue(line);
            if (_lines.Count > KeptLines)
            {
                _lines.Dequeue();
            }

            if (!stderr && !TimestampedLine.IsMatch(line))
            {
                _untimestamped.Add(line);
            }

            if (line.Contains("   at ", StringComparison.Ordinal))
            {
                _stackTraces.Add(line);
            }
        }

        if (stderr || line.Contains(" warn: ", StringComparison.Ordinal) || line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal))
        {
            try
            {
                output.WriteLine($"store {Store}: {line}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; its output is closed.
            }
        }
    }
}
