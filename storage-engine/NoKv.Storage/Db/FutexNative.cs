using System.Runtime.InteropServices;

namespace NoKv.Storage.Db;

/// <summary>The Linux futex syscall (private to this process), for <see cref="WakeWord"/>.</summary>
internal static unsafe partial class FutexNative
{
    private const int FutexWaitBitsetPrivate = 9 | 128;
    private const int FutexWakeBitsetPrivate = 10 | 128;

    /// <summary>The syscall number on this platform, or -1 where futexes are not used (not Linux x64/arm64).</summary>
    public static readonly long SyscallNumber = !OperatingSystem.IsLinux() ? -1 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        _ => -1,
    };

    /// <summary>
    /// Sleeps while *<paramref name="word"/> == <paramref name="expected"/>, until a wake whose bitset shares a bit
    /// with <paramref name="bits"/> (may return early: value changed, signal).
    /// </summary>
    public static void WaitBitset(int* word, int expected, int bits) =>
        Syscall(SyscallNumber, word, FutexWaitBitsetPrivate, expected, null, null, bits);

    /// <summary>Wakes every thread sleeping on <paramref name="word"/> with a bitset sharing a bit with <paramref name="bits"/>.</summary>
    public static void WakeBitset(int* word, int bits) =>
        Syscall(SyscallNumber, word, FutexWakeBitsetPrivate, int.MaxValue, null, null, bits);

    [LibraryImport("libc", EntryPoint = "syscall")]
    private static partial long Syscall(long number, int* word, int op, int value, void* timeout, void* word2, int value3);
}
