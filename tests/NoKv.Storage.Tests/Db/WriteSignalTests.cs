using NoKv.Storage.Db;
using Xunit;

namespace NoKv.Storage.Tests.Db;

public sealed class WriteSignalTests
{
    [Fact]
    public void Wait_returns_at_once_when_already_set()
    {
        var signal = new WriteSignal();
        signal.Reset();
        signal.Set();
        signal.Wait();
    }

    [Fact]
    public void Wait_sleeps_until_another_thread_sets_it_and_reset_rearms_it()
    {
        var signal = new WriteSignal();
        for (int round = 0; round < 200; round++)
        {
            signal.Reset();
            int woken = 0;
            var waiter = new Thread(() =>
            {
                signal.Wait();
                Volatile.Write(ref woken, 1);
            });
            waiter.Start();

            // Give the waiter a chance to reach the kernel sleep on some rounds; it must not pass before Set.
            if (round % 10 == 0)
            {
                Thread.Sleep(1);
            }

            Assert.Equal(0, Volatile.Read(ref woken));
            signal.Set();
            Assert.True(waiter.Join(TimeSpan.FromSeconds(10)), $"round {round}: waiter never woke");
            Assert.Equal(1, Volatile.Read(ref woken));
        }
    }
}
