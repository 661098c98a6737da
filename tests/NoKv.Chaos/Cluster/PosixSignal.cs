using System.Runtime.InteropServices;

namespace NoKv.Chaos.Cluster;

/// <summary>kill(2): .NET's Process.Kill sends only SIGKILL, the harness also freezes, thaws and terminates silos.</summary>
public static partial class PosixSignal
{
    public const int Kill = 9;
    public const int Terminate = 15;
    public const int Continue = 18;
    public const int Stop = 19;

    /// <summary>False if the process no longer exists.</summary>
    public static bool Send(int processId, int signal) => SendSignal(processId, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
