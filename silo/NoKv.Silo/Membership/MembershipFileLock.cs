using System.Diagnostics;

namespace NoKv.Silo.Membership;

/// <summary>
/// An exclusive lock on a cluster's lock file, held across one read-modify-write of its table. It is an OS
/// advisory lock (flock on Unix through <see cref="FileShare.None"/>, a share lock on Windows), taken per open
/// file, so it excludes other processes and other handles in this process alike, and the kernel drops it when
/// its holder dies (kill -9 included). The lock file itself is never deleted: removing it would let two
/// processes lock two different inodes of the same name.
/// </summary>
public sealed class MembershipFileLock : IDisposable
{
    private const int MaxBackoffMilliseconds = 20;

    private readonly FileStream _handle;

    private MembershipFileLock(FileStream handle) => _handle = handle;

    /// <summary>Waits for the lock, polling with jittered backoff (the OS call does not wait without blocking a thread).</summary>
    /// <exception cref="MembershipTableLockTimeoutException">Still held by someone else after <paramref name="timeout"/>.</exception>
    public static async Task<MembershipFileLock> AcquireAsync(string path, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        int backoff = 1;
        while (true)
        {
            try
            {
                return new MembershipFileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                if (clock.Elapsed >= timeout)
                {
                    throw new MembershipTableLockTimeoutException(path, timeout);
                }

                await Task.Delay(Random.Shared.Next(1, backoff + 1), cancellation).ConfigureAwait(false);
                backoff = Math.Min(backoff * 2, MaxBackoffMilliseconds);
            }
        }
    }

    public void Dispose() => _handle.Dispose();

    // .NET reports a refused flock as the raw errno (EWOULDBLOCK: 11 on Linux, 35 on macOS) and a Windows share
    // conflict as ERROR_SHARING_VIOLATION or ERROR_LOCK_VIOLATION.
    private static bool IsHeldElsewhere(IOException e) =>
        e is not FileNotFoundException and not DirectoryNotFoundException
        && (e.HResult is 11 or 35 || e.HResult == unchecked((int)0x80070020) || e.HResult == unchecked((int)0x80070021));
}
