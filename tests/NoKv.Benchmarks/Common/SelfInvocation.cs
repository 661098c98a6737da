using System.Diagnostics;
using System.Reflection;

namespace NoKv.Benchmarks.Common;

/// <summary>
/// Builds a <see cref="ProcessStartInfo"/> that runs this benchmark program again with other
/// arguments. The storage benchmark runs each engine in its own child process so that one engine's
/// heap, native allocations and page-cache pressure do not contaminate another's peak memory or
/// timings. Works both from the apphost (`dotnet run`, the published executable) and from
/// `dotnet NoKv.Benchmarks.dll`.
/// </summary>
public static class SelfInvocation
{
    public static ProcessStartInfo Create(IEnumerable<string> arguments)
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot determine the benchmark executable path");
        var info = new ProcessStartInfo { UseShellExecute = false };
        var hostName = Path.GetFileNameWithoutExtension(processPath);
        if (string.Equals(hostName, "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            // Started as `dotnet NoKv.Benchmarks.dll`: run the same assembly through the same host.
            info.FileName = processPath;
            info.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }
        else
        {
            info.FileName = processPath;
        }
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        return info;
    }
}
