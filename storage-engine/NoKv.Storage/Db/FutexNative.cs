using System.Runtime.InteropServices;

namespace NoKv.Storage.Db;

/// <summary>The Linux futex syscall (private to this process), for <see cref="WriteSignal"/>.</summary>
internal static unsafe partial class FutexNative
{
    private const int FutexWaitPrivate = 0 | 128;
    private const int FutexWakePrivate = 1 | 128;

    /// <summary>Sleeps while *<paramref name="word"/> == <paramref name="expected"/> (may return early).</summary>
    public static void Wait(long syscallNumber, int* word, int expected) =>
        Syscall(syscallNumber, word, FutexWaitPrivate, expected, null, null, 0);

    /// <summary>Wakes up to <paramref name="count"/> threads sleeping on <paramref name="word"/>.</summary>
    public static void Wake(long syscallNumber, int* word, int count) =>
        Syscall(syscallNumber, word, FutexWakePrivate, count, null, null, 0);

    [LibraryImport("libc", EntryPoint = "syscall")]
    private static partial long Syscall(long number, int* word, int op, int value, void* timeout, void* word2, int value3);
}
