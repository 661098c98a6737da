using NoKv.Storage.Db;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>The shared wake-up word of the group commit: no lost wake-ups, and one wake for many sleepers.</summary>
public sealed class WakeWordTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public void Each_thread_gets_one_stable_bit()
    {
        int mine = WakeWord.BitForCurrentThread();
        Assert.Equal(mine, WakeWord.BitForCurrentThread());
        Assert.NotEqual(0, mine);
        Assert.Equal(0, mine & (mine - 1));

        int other = 0;
        var t = new Thread(() => other = WakeWord.BitForCurrentThread());
        t.Start();
        Assert.True(t.Join(Deadline));
        Assert.NotEqual(0, other);
        Assert.Equal(0, other & (other - 1));
    }

    [Fact]
    public void A_wake_racing_with_the_sleep_is_never_lost()
    {
        var word = new WakeWord();
        for (int round = 0; round < 500; round++)
        {
            int done = 0;
            int bit = 1 << (round % 32);
            var sleeper = new Thread(() =>
            {
                while (true)
                {
                    int epoch = word.Epoch;
                    if (Volatile.Read(ref done) != 0)
                    {
                        return;
                    }

                    word.Sleep(epoch, bit);
                }
            });
            sleeper.Start();

            // Publish the state first, then wake: the sleeper is before, inside or past its sleep, at random.
            Volatile.Write(ref done, 1);
            word.Wake(bit);
            Assert.True(sleeper.Join(Deadline), $"round {round}: the sleeper missed its wake-up");
        }
    }

    [Fact]
    public void A_waker_that_skips_the_call_for_a_waiter_not_yet_asleep_never_loses_it()
    {
        // The group commit's protocol: the waiter sets its sleeping flag, fences, reads the epoch, checks its state
        // and sleeps; the waker sets the state, bumps the epoch (a fence) and calls the kernel only if the flag is set.
        var word = new WakeWord();
        int skipped = 0;
        for (int round = 0; round < 2000; round++)
        {
            int done = 0;
            int sleeping = 0;
            int bit = 1 << (round % 32);
            var waiter = new Thread(() =>
            {
                // Some rounds poll a little first, like an unsynced writer, so the waker sees both states.
                for (int i = 0; i < round % 7 * 20 && Volatile.Read(ref done) == 0; i++)
                {
                    Thread.SpinWait(10);
                }

                while (true)
                {
                    Volatile.Write(ref sleeping, 1);
                    Interlocked.MemoryBarrier();
                    int epoch = word.Epoch;
                    if (Volatile.Read(ref done) != 0)
                    {
                        return;
                    }

                    word.Sleep(epoch, bit);
                }
            });
            waiter.Start();

            Volatile.Write(ref done, 1);
            word.Bump();
            if (Volatile.Read(ref sleeping) != 0)
            {
                word.WakeSleepers(bit);
            }
            else
            {
                skipped++;
            }

            Assert.True(waiter.Join(Deadline), $"round {round}: the waiter missed its wake-up");
        }

        Assert.True(skipped > 0, "no round exercised the skipped wake-up");
    }

    [Fact]
    public void One_wake_releases_every_sleeper_whose_bit_is_in_the_mask()
    {
        var word = new WakeWord();
        const int sleepers = 12;
        var done = new int[sleepers];
        var started = new CountdownEvent(sleepers);
        var threads = new Thread[sleepers];
        for (int i = 0; i < sleepers; i++)
        {
            int index = i;
            threads[i] = new Thread(() =>
            {
                started.Signal();
                while (true)
                {
                    int epoch = word.Epoch;
                    if (Volatile.Read(ref done[index]) != 0)
                    {
                        return;
                    }

                    word.Sleep(epoch, 1 << index);
                }
            });
            threads[i].Start();
        }

        Assert.True(started.Wait(Deadline));

        // First release the even sleepers only: the odd ones must still be running their loop afterwards.
        ReleaseEverySecondFrom(0);
        for (int i = 1; i < sleepers; i += 2)
        {
            Assert.True(threads[i].IsAlive, $"sleeper {i} left without its state being set");
        }

        ReleaseEverySecondFrom(1);

        // Sets the state of sleepers first, first + 2, ... and wakes exactly their bits; each must then leave.
        void ReleaseEverySecondFrom(int first)
        {
            int mask = 0;
            for (int i = first; i < sleepers; i += 2)
            {
                Volatile.Write(ref done[i], 1);
                mask |= 1 << i;
            }

            word.Wake(mask);
            for (int i = first; i < sleepers; i += 2)
            {
                Assert.True(threads[i].Join(Deadline), $"sleeper {i} was not woken by the mask");
            }
        }
    }
}
