using System.Runtime.InteropServices;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// Sends POSIX signals to child processes. .NET's Process.Kill only sends SIGKILL, but a silo must get
/// SIGTERM first so that its Generic Host deactivates the replicas and closes the engine cleanly.
/// </summary>
public static partial class PosixSignal
{
    private const int SigTerm = 15;

    /// <summary>Asks <paramref name="processId"/> to shut down; false if it no longer exists (or on Windows, where it is not supported).</summary>
    public static bool Terminate(int processId) => OperatingSystem.IsWindows() ? false : Kill(processId, SigTerm) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
