using System.Collections.Concurrent;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// The hand-off between a group's leader and the writers queued behind it, with the leader held inside its group (a
/// preempted leader, simulated by <see cref="Database.GroupCommitHook"/>): unsynced waiters poll and then sleep, synced
/// ones sleep at once, and every one of them returns only after its own write is visible, and a synced one only after it
/// is durable.
/// </summary>
public sealed class WriteHandOffTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static byte[] B(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    [Theory]
    [InlineData(4, 4)]
    [InlineData(16, 0)]
    public async Task Writers_queued_behind_a_stalled_leader_return_only_once_their_writes_are_visible_and_synced_ones_durable(int unsynced, int synced)
    {
        var fs = new MemFileSystem();
        var inHook = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        int stalled = 0;
        var acknowledgedSynced = new ConcurrentBag<string>();
        var errors = new ConcurrentBag<string>();
        const int perWriter = 40;
        Database db = Database.Open("/handoff", new StorageOptions { FileSystem = fs });
        try
        {
            db.GroupCommitHook = () =>
            {
                // Only the first group stalls: its leader sits in the group, as if preempted, until the test lets it go.
                if (Interlocked.Exchange(ref stalled, 1) == 0)
                {
                    inHook.Set();
                    if (!release.Wait(Deadline))
                    {
                        throw new TimeoutException("the test never released the stalled leader");
                    }
                }
            };

            Task leader = StartWriter(() => db.Put("leader"u8, "leader"u8));
            Assert.True(inHook.Wait(Deadline), "the first writer never reached its group");

            int writers = unsynced + synced;
            var tasks = new List<Task> { leader };
            for (int t = 0; t < writers; t++)
            {
                int w = t;
                bool sync = w >= unsynced;
                tasks.Add(StartWriter(() =>
                {
                    for (int i = 0; i < perWriter; i++)
                    {
                        string key = $"w{w:D2}-{i:D3}";
                        db.Put(B(key), B(key), sync ? WriteOptions.Synced : WriteOptions.Default);

                        // Acknowledged: it must be visible to this thread at once.
                        if (db.Get(B(key)) is not { } v || !v.AsSpan().SequenceEqual(B(key)))
                        {
                            errors.Add($"{key} was acknowledged but not visible");
                        }

                        if (sync)
                        {
                            acknowledgedSynced.Add(key);
                        }
                    }
                }));
            }

            // Every writer's first write is queued behind the stalled group. Their polling lasts 100 us at most, so by the
            // release most of them sleep and must be woken.
            await WaitUntil(() => db.QueuedWrites == writers);
            Assert.Empty(acknowledgedSynced);
            Assert.Null(db.Get("leader"u8));

            release.Set();
            await Task.WhenAll(tasks).WaitAsync(Deadline);

            Assert.Empty(errors);
            Assert.Equal("leader"u8.ToArray(), db.Get("leader"u8));
        }
        finally
        {
            release.Set();
            db.Dispose();
        }

        // Power loss: only synced bytes survive, and every acknowledged synced write must be among them.
        using Database reopened = Database.Open("/handoff", new StorageOptions { FileSystem = fs.CrashClone() });
        foreach (string key in acknowledgedSynced)
        {
            Assert.True(reopened.Get(B(key)) is { } v && v.AsSpan().SequenceEqual(B(key)), $"acknowledged synced write {key} lost");
        }
    }

    private static Task StartWriter(Action body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static async Task WaitUntil(Func<bool> condition)
    {
        DateTime end = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < end, "condition not reached before the deadline");
            await Task.Delay(1);
        }
    }
}
