using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Client;
using NoKv.Client.Locks;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Locks;

/// <summary>
/// The lock service on an in-process cluster (docs/locks.md): mutual exclusion and fencing under a leader kill, a
/// holder paused past its lease, FIFO waiters woken by the release.
/// </summary>
public sealed class LockServiceTests(ITestOutputHelper output)
{
    /// <summary>
    /// Five clients take turns on one lock while the silo leading the lock's shard is killed. Every hold is checked
    /// against every other: the windows in which a client's own (conservative) clock said it held the lock never
    /// overlap, tokens grow in the order of those windows, across the leader change; and every holder appended its
    /// token to a log with a fenced compare-and-swap, so the log's tokens must strictly increase.
    /// </summary>
    [Fact]
    public async Task Holders_exclude_each_other_and_tokens_keep_increasing_while_the_lock_leader_is_killed()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var status = await cluster.WaitForBalancedLeadersAsync(TimeSpan.FromSeconds(30));

        // Shard 2 is led by store 2 once balanced; store 1 hosts the test cluster's membership, so it stays up.
        var shard = status.Map.Shards[1];
        var leader = TestNoKvCluster.LeaderOf(status, shard.Id)!.Value;
        Assert.NotEqual(new StoreId(1), leader);
        string name = NameIn(shard, "mutex");
        string log = NameIn(shard, "mutex-log");

        var holds = new ConcurrentQueue<Hold>();
        var clock = Stopwatch.StartNew();
        long killedAt = long.MaxValue;
        using var stop = new CancellationTokenSource();
        async Task ClientAsync(int id)
        {
            while (!stop.IsCancellationRequested)
            {
                LockHandle handle;
                try
                {
                    handle = await cluster.Locks.AcquireAsync(name, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20));
                }
                catch (LockNotAcquiredException)
                {
                    continue;
                }

                long start = clock.ElapsedTicks;
                long end = start + (long)(handle.Remaining.TotalSeconds * Stopwatch.Frequency);
                string? error = null;
                try
                {
                    var current = await cluster.Store.GetStringAsync(log);
                    var next = (current is null ? "" : current + ",") + handle.Token;
                    // Not a conditional expression: both a null byte[] and a null typed as ReadOnlyMemory convert to an
                    // empty (present) expected value, where absent is meant.
                    ReadOnlyMemory<byte>? expected = null;
                    if (current is not null)
                    {
                        expected = Encoding.UTF8.GetBytes(current);
                    }

                    if (!await cluster.Store.CompareAndSwapAsync(Encoding.UTF8.GetBytes(log), expected, Encoding.UTF8.GetBytes(next), handle.Fence))
                    {
                        error = "CasMismatch";
                    }
                }
                catch (NoKvException e)
                {
                    error = e.Code.ToString();
                }

                // The window this client may claim: until now if its clock still says it holds the lock.
                if (handle.IsHeld)
                {
                    end = Math.Min(end, clock.ElapsedTicks);
                }

                holds.Enqueue(new Hold(id, handle.Token, start, end, error));
                try
                {
                    await handle.ReleaseAsync();
                }
                catch (NoKvException)
                {
                    // The lease ends it anyway.
                }
            }
        }

        var clients = Enumerable.Range(0, 5).Select(i => Task.Run(() => ClientAsync(i))).ToArray();
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(holds.Count), n => n >= 10, TimeSpan.FromSeconds(30), "ten holds before the kill");
            killedAt = clock.ElapsedTicks;
            await cluster.Cluster.KillSiloAsync(cluster.SiloOf(leader));
            await Eventually.WaitAsync(() => Task.FromResult(holds.Count(h => h.Start > killedAt)), n => n >= 10, TimeSpan.FromSeconds(60), "ten holds after the kill");
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(clients);
        }

        var all = holds.OrderBy(h => h.Start).ToArray();
        output.WriteLine($"{all.Length} holds, {all.Count(h => h.Start > killedAt)} after killing store {leader}; errors: {string.Join(", ", all.Where(h => h.Error is not null).Select(h => h.Error))}");
        Assert.Equal(all.Length, all.Select(h => h.Token).Distinct().Count());
        for (int i = 1; i < all.Length; i++)
        {
            Assert.True(all[i - 1].End <= all[i].Start, $"holds overlap: {all[i - 1]} and {all[i]}");
            Assert.True(all[i - 1].Token < all[i].Token, $"tokens out of order: {all[i - 1]} before {all[i]}");
        }

        // Every acknowledged append is in the log, the log holds only tokens that were granted, in token order.
        var written = (await cluster.Store.GetStringAsync(log))!.Split(',').Select(long.Parse).ToArray();
        for (int i = 1; i < written.Length; i++)
        {
            Assert.True(written[i - 1] < written[i], $"the fenced log is out of token order: {string.Join(",", written)}");
        }

        var acknowledged = all.Where(h => h.Error is null).Select(h => h.Token).ToArray();
        Assert.Empty(acknowledged.Except(written));
        Assert.Empty(written.Except(all.Select(h => h.Token)));
        Assert.True(acknowledged.Length >= 10, $"only {acknowledged.Length} of {all.Length} appends were acknowledged");
        var status2 = await cluster.Locks.GetStatusAsync(name);
        Assert.True(status2.LastToken >= all[^1].Token);
    }

    [Fact]
    public async Task A_holder_paused_past_its_lease_loses_the_lock_and_its_fenced_write_is_refused()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var locks = cluster.Locks;
        var first = await locks.AcquireAsync("paused", TimeSpan.FromSeconds(1), TimeSpan.Zero);
        Assert.True(first.IsHeld);

        // The first holder stops renewing (a GC pause, a stopped VM). The second waits and gets the lock once the
        // lease ran out on the lock leader's clock, not earlier than the first holder's own clock let it go.
        var clock = Stopwatch.StartNew();
        await using var second = await locks.AcquireAsync("paused", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));
        Assert.False(first.IsHeld);
        Assert.True(second.Token > first.Token);
        output.WriteLine($"second holder granted after {clock.ElapsedMilliseconds} ms");

        await cluster.Store.PutAsync("paused-resource", "by-second", second.Fence);

        // The first holder wakes up and writes with its old token: refused, and nothing changes.
        await Assert.ThrowsAsync<FencedOutException>(() => cluster.Store.PutAsync("paused-resource", "by-first", first.Fence));
        await Assert.ThrowsAsync<FencedOutException>(() => cluster.Store.DeleteAsync(Encoding.UTF8.GetBytes("paused-resource"), first.Fence));
        Assert.Equal("by-second", await cluster.Store.GetStringAsync("paused-resource"));
        await Assert.ThrowsAsync<LockLostException>(() => first.RenewAsync());

        var status = await locks.GetStatusAsync("paused");
        Assert.Equal(second.Owner, status.Holder);
        Assert.Equal(second.Token, status.Token);
    }

    [Fact]
    public async Task Waiters_are_served_in_arrival_order_with_increasing_tokens()
    {
        // That a release wakes a long-polling waiter at once (rather than at its next poll) is checked on a scripted
        // clock in LockLeaseTests; here only the figure is printed, since wall time on a shared machine proves nothing.
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var locks = cluster.Locks;
        var holder = await locks.AcquireAsync("fifo", TimeSpan.FromSeconds(30), TimeSpan.Zero);
        var granted = new ConcurrentQueue<(string Who, long Token, long At)>();
        var clock = Stopwatch.StartNew();
        var waiters = new List<Task>();
        foreach (var who in new[] { "b", "c", "d" })
        {
            waiters.Add(Task.Run(async () =>
            {
                var handle = await locks.AcquireAsync("fifo", TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
                granted.Enqueue((who, handle.Token, clock.ElapsedMilliseconds));
                await handle.ReleaseAsync();
            }));
            int expected = waiters.Count;
            await Eventually.WaitAsync(() => locks.GetStatusAsync("fifo"), s => s.Waiters == expected, TimeSpan.FromSeconds(20), $"{expected} waiters");
        }

        long released = clock.ElapsedMilliseconds;
        Assert.True(await holder.ReleaseAsync());
        await Task.WhenAll(waiters);

        var order = granted.ToArray();
        Assert.Equal(["b", "c", "d"], order.Select(g => g.Who));
        Assert.True(order[0].Token > holder.Token && order[1].Token > order[0].Token && order[2].Token > order[1].Token);
        output.WriteLine($"release to first grant: {order[0].At - released} ms; all three: {order[2].At - released} ms");
    }

    [Fact]
    public async Task An_automatically_renewed_lock_outlives_its_lease_and_the_waiter_gets_it_only_when_released()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        var locks = cluster.Locks;
        var holder = await locks.AcquireAsync("renewed", TimeSpan.FromMilliseconds(1500), TimeSpan.Zero, LockRenewal.Automatic);
        var waiting = locks.AcquireAsync("renewed", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30));

        // Three leases long, the holder never lapses and the waiter stays queued.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(4.5))
        {
            Assert.True(holder.IsHeld, $"lapsed after {clock.ElapsedMilliseconds} ms");
            Assert.False(holder.LostToken.IsCancellationRequested);
            Assert.False(waiting.IsCompleted, $"the waiter was granted after {clock.ElapsedMilliseconds} ms");
            await Task.Delay(50);
        }

        var status = await locks.GetStatusAsync("renewed");
        Assert.Equal(holder.Owner, status.Holder);
        Assert.Equal(1, status.Waiters);

        await holder.DisposeAsync();
        Assert.True(holder.LostToken.IsCancellationRequested);
        await using var next = await waiting;
        Assert.True(next.Token > holder.Token);
    }

    [Fact]
    public async Task Bad_lock_requests_get_typed_errors_and_change_nothing()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 2);
        await Assert.ThrowsAsync<InvalidLockRequestException>(() => cluster.Locks.AcquireAsync("x", TimeSpan.FromMilliseconds(10), TimeSpan.Zero));
        await Assert.ThrowsAsync<EmptyKeyException>(() => cluster.Locks.AcquireAsync("", TimeSpan.FromSeconds(1), TimeSpan.Zero));
        await Assert.ThrowsAsync<InvalidLockRequestException>(() => cluster.Store.PutAsync("k", "v", new NoKv.Abstractions.Locks.LockFence(Encoding.UTF8.GetBytes("x"), 0)));
        var held = await cluster.Locks.AcquireAsync("x", TimeSpan.FromSeconds(10), TimeSpan.Zero);
        await Assert.ThrowsAsync<LockNotAcquiredException>(() => cluster.Locks.AcquireAsync("x", TimeSpan.FromSeconds(1), TimeSpan.Zero));
        Assert.Equal(0, (await cluster.Locks.GetStatusAsync("x")).Waiters);
        Assert.Equal(held.Token, (await cluster.Locks.GetStatusAsync("x")).Token);
    }

    /// <summary>A lock name inside <paramref name="shard"/>'s range (the default split points are single bytes, so
    /// the upper half needs a name starting above ASCII).</summary>
    private static string NameIn(ShardDescriptor shard, string prefix)
    {
        foreach (string lead in new[] { "", "~", "\u00e9", "\u4e2d", "\uffee" })
        {
            for (int i = 0; i < 256; i++)
            {
                string name = $"{lead}{prefix}-{i}";
                if (shard.Range.Contains(Encoding.UTF8.GetBytes(name)))
                {
                    return name;
                }
            }
        }

        throw new InvalidOperationException($"no lock name starting '{prefix}' falls in shard {shard.Id}'s range {shard.Range}");
    }

    private sealed record Hold(int Client, long Token, long Start, long End, string? Error);
}
