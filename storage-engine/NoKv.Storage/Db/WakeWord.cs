using System.Runtime.CompilerServices;

namespace NoKv.Storage.Db;

/// <summary>
/// One wake-up channel shared by every synchronous writer of a database: a writer sleeps on it with its own bit
/// (<see cref="BitForCurrentThread"/>), and a group leader wakes every writer of a group with one call, passing the
/// OR of their bits.
/// </summary>
/// <remarks>
/// Protocol (no lost wake-ups): the waker first publishes the state the waiters wait for (their Done or Promoted
/// flags), then calls <see cref="Wake"/>, which bumps <see cref="Epoch"/> (a full fence) and wakes the sleepers whose
/// bit is in the mask. A waiter reads <see cref="Epoch"/>, then checks its state, then calls <see cref="Sleep"/> with
/// the epoch it read: the kernel sleeps only while the word still holds that epoch, so a wake between the check and
/// the sleep makes the sleep return at once. Any return may be spurious (another group's wake-up, a shared bit, a
/// signal); waiters loop on their state.
/// <para>
/// Why one word: waking the 20-30 writers of a group one futex call at a time let each wake-up preempt the leader on
/// the 2-core reference VM (the woken writer ran at once on the leader's core, then the leader again), so the leader
/// paid a context switch per writer between two WAL syncs. With one call the kernel queues them all, and the leader
/// is switched out at most once. On Linux (x64, arm64) this is FUTEX_WAIT_BITSET/FUTEX_WAKE_BITSET on a pinned
/// word; elsewhere a monitor that wakes every sleeper.
/// </para>
/// <para>
/// Threads take bits round-robin, process-wide, at their first synchronous write, so writer threads started together
/// share a bit only beyond 32 of them; threads that share a bit sometimes wake for nothing and sleep again.
/// </para>
/// </remarks>
internal sealed unsafe class WakeWord
{
    private static int s_nextBit = -1;

    [ThreadStatic]
    private static int t_bit;

    // Pinned: the kernel queues a sleeping waiter on the word's address. Element 0 is the epoch.
    private readonly int[]? _word;
    private readonly object? _gate;
    private int _fallbackEpoch;

    public WakeWord()
    {
        if (FutexNative.SyscallNumber > 0)
        {
            _word = GC.AllocateArray<int>(1, pinned: true);
        }
        else
        {
            _gate = new object();
        }
    }

    /// <summary>This thread's bit (one of 32, assigned round-robin at the thread's first call).</summary>
    public static int BitForCurrentThread()
    {
        int bit = t_bit;
        if (bit == 0)
        {
            bit = t_bit = 1 << (Interlocked.Increment(ref s_nextBit) & 31);
        }

        return bit;
    }

    /// <summary>Changes on every <see cref="Wake"/>; read before checking the awaited state.</summary>
    public int Epoch => _word is not null ? Volatile.Read(ref _word[0]) : Volatile.Read(ref _fallbackEpoch);

    /// <summary>
    /// Sleeps until a <see cref="Wake"/> whose mask holds <paramref name="bit"/> (or any wake, or spuriously); returns
    /// at once if the epoch is no longer <paramref name="epoch"/>.
    /// </summary>
    public void Sleep(int epoch, int bit)
    {
        if (_word is not null)
        {
            FutexNative.WaitBitset(WordAddress, epoch, bit);
            return;
        }

        lock (_gate!)
        {
            if (_fallbackEpoch == epoch)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>
    /// Bumps the epoch (a full fence) without a system call: a waiter that reads the epoch after this sees the state
    /// published before it. Follow with <see cref="WakeSleepers"/> for the waiters that may already be asleep.
    /// </summary>
    public void Bump()
    {
        if (_word is not null)
        {
            Interlocked.Increment(ref _word[0]);
            return;
        }

        lock (_gate!)
        {
            _fallbackEpoch++;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>After <see cref="Bump"/>: wakes every sleeper whose bit is in <paramref name="mask"/> (0: no call).</summary>
    public void WakeSleepers(int mask)
    {
        if (_word is not null && mask != 0)
        {
            FutexNative.WakeBitset(WordAddress, mask);
        }
    }

    /// <summary>Bumps the epoch and wakes every sleeper whose bit is in <paramref name="mask"/>.</summary>
    public void Wake(int mask)
    {
        if (_word is not null)
        {
            Interlocked.Increment(ref _word[0]);
            if (mask != 0)
            {
                FutexNative.WakeBitset(WordAddress, mask);
            }

            return;
        }

        lock (_gate!)
        {
            _fallbackEpoch++;
            Monitor.PulseAll(_gate);
        }
    }

    private int* WordAddress => (int*)Unsafe.AsPointer(ref _word![0]);
}
